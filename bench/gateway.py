"""The two gateways compared: disclosure on and off, on one engine, one schema each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from fieldgate.app import build_services
from fieldgate.authz.principal import Principal
from fieldgate.identity.issuance import issue_for_subject
from fieldgate.infra.db import create_engine
from fieldgate.resolvers.context import Services
from fieldgate.settings import PACKAGED_POLICY_DIR, Settings

TOKEN_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Gateways:
    """``on`` runs the packaged policy; ``off`` has disclosure switched off (every field
    FULL, same schema, resolvers and SQL shape). Each has its own plan cache."""

    on: Services
    off: Services
    engine: AsyncEngine

    async def principal(self, subject: str) -> Principal:
        """The principal of a demo account, from a token issued and verified as in HTTP."""
        token = await issue_for_subject(self.engine, self.on.tokens, subject, ttl=TOKEN_TTL)
        return self.on.tokens.verify(token)

    async def close(self) -> None:
        for services in (self.on, self.off):
            if services.audit is not None:
                await services.audit.close()
        await self.engine.dispose()


def build_gateways(database_url: str, key_dir: Path, *, compiled_path: bool = True) -> Gateways:
    """Both gateways on one engine; the signing key is a throwaway one in ``key_dir``."""
    # Explicit values win over FIELDGATE_* variables: the run measures the packaged policy.
    settings = Settings(
        env="development",
        database_url=database_url,
        key_dir=key_dir,
        signing_key_file=None,
        data_key_file=None,
        policy_dir=PACKAGED_POLICY_DIR,
        # one token sends every request of a workload: per-token limits would measure refusals
        rate_limit_requests=0,
        rate_limit_cost=0,
        # the partner workload asks for fields the partner can never receive, to measure
        # denials: a per-principal schema would refuse the whole operation instead
        schema_per_principal=False,
    )
    engine = create_engine(database_url)
    on = build_services(settings, engine=engine)
    off = build_services(settings, engine=engine)
    off.disclosure_enabled = False
    on.compiled_path = off.compiled_path = compiled_path
    return Gateways(on, off, engine)
