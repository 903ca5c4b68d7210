"""Policy operations of the ``fieldgate policy`` command: export, import and reload.

They run without a gateway: a change is checked like one made through the API, written with
its revision, audited, and announced; running instances pick it up within a second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from fieldgate.audit.chain import load_audit_key
from fieldgate.audit.store import DatabaseAuditSink
from fieldgate.authz.policy_rules import parse_lines
from fieldgate.authz.purposes import load_purposes
from fieldgate.errors import ConfigurationError, PolicyError
from fieldgate.infra.db import create_engine
from fieldgate.policy_store.database import DatabasePolicyStore
from fieldgate.policy_store.notify import publish
from fieldgate.policy_store.watch import PolicySource, check_policy
from fieldgate.settings import Settings

CLI_ACTOR = "cli"


@dataclass(frozen=True, slots=True)
class Written:
    """A revision written from the command line."""

    revision: int
    version: str
    rules: int
    announced: bool


def rules_of_text(text: str) -> list[str]:
    """The rules of a ``policy.csv`` text, comments and blank lines left out."""
    return [", ".join(line.values) for line in parse_lines(text)]


async def export_rules(settings: Settings) -> list[str]:
    """The rules in force: the database's with ``FIELDGATE_POLICY_SOURCE=database``,
    else the folder's."""
    source = PolicySource(settings.policy_dir, load_purposes(settings.policy_dir), None)
    if settings.policy_source != "database":
        return source.folder_lines()
    engine = create_engine(settings.database_url)
    try:
        return await DatabasePolicyStore(engine).read_rules()
    finally:
        await engine.dispose()


async def import_rules(settings: Settings, lines: Sequence[str]) -> Written:
    """Check ``lines`` and make them the database policy (``policy_source`` database only)."""
    if settings.policy_source != "database":
        raise PolicyError("FIELDGATE_POLICY_SOURCE is files: edit policy.csv, then reload")
    return await _write(settings, lines, note="imported")


async def reload_everywhere(settings: Settings) -> Written:
    """Check the source's policy and add a revision: every instance reloads it."""
    return await _write(settings, None, note="reloaded")


async def _write(settings: Settings, lines: Sequence[str] | None, *, note: str) -> Written:
    from fieldgate.schema import build_schema  # the schema is built only when it is needed
    from fieldgate.schema.catalog import build_catalog

    vocabulary = load_purposes(settings.policy_dir)
    catalog = build_catalog(build_schema()._schema, vocabulary)
    engine = create_engine(settings.database_url)
    try:
        store = DatabasePolicyStore(engine)
        in_database = settings.policy_source == "database"
        source = PolicySource(settings.policy_dir, vocabulary, store if in_database else None)
        policy = source.candidate(lines) if lines is not None else await source.load()
        check_policy(catalog, policy)
        if lines is not None:
            revision = await store.replace(
                policy.rule_lines(), version=policy.version, changed_by=CLI_ACTOR, note=note
            )
        else:
            revision = await store.record_revision(
                version=policy.version, changed_by=CLI_ACTOR, note=note
            )
        # without an audit key here, the instances record the version when they start
        with contextlib.suppress(ConfigurationError):
            sink = DatabaseAuditSink(engine, load_audit_key(settings, create=False))
            await sink.record_policy_version(policy.version)
        announced = False
        if settings.redis_url:
            try:
                await publish(settings.redis_url, str(revision))
                announced = True
            except (TimeoutError, OSError, ConnectionError, ValueError):
                announced = False  # the instances poll: a second instead of at once
        return Written(revision, policy.version, len(policy.rule_lines()), announced)
    finally:
        await engine.dispose()
