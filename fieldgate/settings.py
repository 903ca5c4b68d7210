"""Configuration from ``FIELDGATE_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_POLICY_DIR = Path(__file__).parent / "policy"


class Settings(BaseSettings):
    """Every knob of the gateway; one instance is built at the composition root."""

    model_config = SettingsConfigDict(env_prefix="FIELDGATE_", extra="ignore")

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite+aiosqlite:///var/fieldgate.db"
    signing_key_file: Path | None = None
    data_key_file: Path | None = None
    key_dir: Path = Path("var/keys")
    audit_key_file: Path | None = None
    policy_dir: Path = PACKAGED_POLICY_DIR
    redis_url: str | None = None

    token_issuer: str = "fieldgate"
    token_audience: str = "fieldgate-api"
    token_ttl_seconds: int = Field(default=3600, gt=0)
    max_page_size: int = Field(default=100, gt=0)
    plan_cache_size: int = Field(default=512, gt=0)
    audit_queue_size: int = Field(default=10_000, gt=0)
    graphiql: bool | None = None

    # Guards, all checked before any resolver runs. Each default leaves a wide margin above
    # what the frontends and the policy matrix send, and stops the known abuse well below
    # where it would hurt (why each number: README, "Configuration").
    max_body_bytes: int = Field(default=100 * 1024, gt=0)  # real operations: a few KB
    max_tokens: int = Field(default=2_000, gt=0)  # GraphiQL's introspection: ~200
    max_depth: int = Field(default=10, gt=0)  # deepest real path (ticket→…→course): 7
    max_aliases: int = Field(default=30, ge=0)  # a screen aliases a handful of fields
    max_directives: int = Field(default=5, ge=0)  # per location; @skip + @include is 2
    max_root_fields: int = Field(default=10, gt=0)  # a dashboard asks a few roots at once
    max_cost: int = Field(default=50_000, gt=0)  # 100 rows of ~500 fields
    max_batch: int = Field(default=0, ge=0)  # JSON array batching: off at 0 or 1
    cors_origins: str = ""  # comma-separated exact origins that browsers may call from

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(seconds=self.token_ttl_seconds)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cors_allowed_origins(self) -> tuple[str, ...]:
        """``FIELDGATE_CORS_ORIGINS`` as exact origins (``https://host[:port]``)."""
        return tuple(
            origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()
        )
