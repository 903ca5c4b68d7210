"""Building the services: every dependency once, checked before anything serves."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from fieldgate.audit.chain import AuditKey, load_audit_key
from fieldgate.audit.events import AuditSink
from fieldgate.audit.store import DatabaseAuditSink
from fieldgate.audit.writer import AuditWriter
from fieldgate.authz.classification import Catalog, Level
from fieldgate.authz.lint import lint_policy
from fieldgate.authz.plans import PlanCache
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.shadow import ShadowPolicy
from fieldgate.crypto.encrypted import ENCRYPTED_COORDINATES
from fieldgate.crypto.keyring import Keyring, load_keyring
from fieldgate.crypto.pseudonyms import PseudonymMasks
from fieldgate.errors import PolicyError, SchemaMisdeclared
from fieldgate.http.cors import check_origins
from fieldgate.identity.revocations import DatabaseRevocations, RevocationChecker
from fieldgate.identity.signing_key import load_signing_key
from fieldgate.identity.tokens import TokenService
from fieldgate.infra.db import create_engine, engine_options
from fieldgate.policy_store.changes import PolicyAdministration
from fieldgate.policy_store.database import DatabasePolicyStore
from fieldgate.policy_store.live import LivePolicy
from fieldgate.policy_store.watch import PolicySource, PolicyWatcher, check_policy
from fieldgate.ratelimit.limiter import RateLimiter
from fieldgate.resolvers.context import Services
from fieldgate.resolvers.groups import QuasiIdentifierGroups
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.schema.describe import describe_schema
from fieldgate.schema.documents import DocumentChecker
from fieldgate.schema.limits import QueryLimits
from fieldgate.schema.views import SchemaViews
from fieldgate.settings import Settings

log = structlog.get_logger("fieldgate.app")


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: Policy | None = None,
    revocations: RevocationChecker | None = None,
    keyring: Keyring | None = None,
    audit_sink: AuditSink | None = None,
) -> Services:
    """Build every dependency once; tests pass their own engine, policy, revocations,
    data keyring or audit sink."""
    check_origins(settings.cors_allowed_origins)  # refused at start, in one line
    vocabulary = load_purposes(settings.policy_dir)
    policy = policy or load_policy(settings.policy_dir, vocabulary)
    schema = build_schema(QueryLimits.from_settings(settings), production=settings.is_production)
    catalog = build_catalog(schema._schema, policy.vocabulary)
    describe_schema(schema._schema, catalog, policy.vocabulary)  # before anything prints it
    problems = lint_policy(catalog, policy)
    if problems:
        raise PolicyError("the policy is refused: " + "; ".join(problems))
    engine = engine or create_engine(settings.database_url, **engine_options(settings))
    signing_key = load_signing_key(settings)
    tokens = TokenService(signing_key, settings.token_issuer, settings.token_audience)
    keyring = keyring or load_keyring(settings)
    audit_sink = audit_sink or database_audit_sink(engine, load_audit_key(settings))
    unknown = ENCRYPTED_COORDINATES - catalog.classifications.keys()
    if unknown:
        raise SchemaMisdeclared(
            "encrypted fields missing from the schema: " + ", ".join(sorted(unknown))
        )
    services = Services(
        settings=settings,
        engine=engine,
        live=LivePolicy(policy),
        tokens=tokens,
        catalog=catalog,
        plans=PlanCache(settings.plan_cache_size),
        pseudonyms=PseudonymMasks(keyring),
        groups=QuasiIdentifierGroups(policy.vocabulary.deidentification, catalog),
        relation_coordinates=frozenset(
            c for c, cl in catalog.classifications.items() if cl.relation
        ),
        sensitive_coordinates=frozenset(
            c
            for c, cl in catalog.classifications.items()
            if cl.level is Level.SENSITIVE and not cl.relation
        ),
        personal_coordinates=frozenset(
            c for c, cl in catalog.classifications.items() if cl.is_personal
        ),
        encrypted_coordinates=ENCRYPTED_COORDINATES,
        decrypt=keyring.decrypt,
        schema=schema,
        revocations=revocations or DatabaseRevocations(engine),
        keyring=keyring,
        audit=AuditWriter(audit_sink, capacity=settings.audit_queue_size),
        disclosure_enabled=settings.disclosure_enabled,
        compiled_path=settings.compiled_path,
        schema_views=schema_views(settings, schema.as_str(), catalog),
        rate_limiter=RateLimiter.from_url(
            settings.rate_limit_requests, settings.rate_limit_cost, settings.redis_url
        ),
    )
    services.check_document = DocumentChecker(
        schema._schema, schema.as_str(), catalog, lambda: services.live.policy
    )
    return services


def schema_views(settings: Settings, full_sdl: str, catalog: Catalog) -> SchemaViews | None:
    """Each principal's view of the schema (``FIELDGATE_SCHEMA_PER_PRINCIPAL``); staff see
    the whole schema only in development with ``FIELDGATE_STAFF_FULL_SCHEMA``."""
    if not settings.schema_per_principal:
        return None
    return SchemaViews(
        full_sdl,
        catalog,
        staff_see_all=settings.staff_full_schema and not settings.is_production,
        maxsize=settings.schema_view_cache_size,
    )


def database_audit_sink(engine: AsyncEngine, key: AuditKey) -> DatabaseAuditSink:
    """The trail on an engine of its own: audit writes neither wait for request connections
    nor take them. Without a pool, a connection lives for one batch, and nothing is held
    between batches."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return DatabaseAuditSink(engine, key)  # a memory database exists in one engine only
    own = create_engine(url.render_as_string(hide_password=False), poolclass=NullPool)
    return DatabaseAuditSink(own, key, owns_engine=True)


async def record_policy_version(services: Services) -> None:
    """Record a ``policy_change`` event when the policy differs from the last one recorded
    (only with the database trail; a failure is logged and does not stop the gateway)."""
    sink = services.audit.sink if services.audit is not None else None
    if not isinstance(sink, DatabaseAuditSink):
        return
    try:
        await sink.record_policy_version(services.policy.version)
    except Exception as exc:  # the database may be down at start: serve, and say so
        log.error("audit_policy_version_not_recorded", error_class=type(exc).__name__)


def attach_policy_control(services: Services) -> None:
    """The policy's watcher and administration, and the shadow policy of
    ``FIELDGATE_SHADOW_POLICY_DIR`` (checked like the live one)."""
    settings = services.settings
    store = DatabasePolicyStore(services.engine)
    in_database = settings.policy_source == "database"
    vocabulary = services.policy.vocabulary
    source = PolicySource(settings.policy_dir, vocabulary, store if in_database else None)
    watcher = PolicyWatcher(
        services.live,
        services.catalog,
        source,
        store,
        poll_seconds=settings.policy_poll_seconds,
        redis_url=settings.redis_url,
        on_reload_failure=services.metrics.policy_reload_failures.inc,
    )
    services.policy_watcher = watcher
    services.policy_admin = PolicyAdministration(source, store, watcher, services.audit)
    if settings.shadow_policy_dir is not None:
        candidate = load_policy(settings.shadow_policy_dir, services.policy.vocabulary)
        check_policy(services.catalog, candidate)
        services.live.shadow = ShadowPolicy(candidate)
