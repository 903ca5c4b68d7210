"""Configuration from ``FIELDGATE_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGED_POLICY_DIR = Path(__file__).parent / "policy"
CORS_HEADERS_DEFAULT = (
    "Authorization, Content-Type, Fieldgate-Strict, X-Request-Id, traceparent, tracestate, "
    "baggage, sentry-trace, apollographql-client-name, apollographql-client-version, DNT, Sec-GPC"
)


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
    # where the rules live: policy.csv in policy_dir, or the policy_rules table (seeded from it)
    policy_source: Literal["files", "database"] = "files"
    policy_poll_seconds: float = Field(default=0.5, gt=0)  # a change reaches every instance in 1 s
    shadow_policy_dir: Path | None = None  # a candidate policy compared with the live one

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
    # request headers a browser may send cross-origin (tracing, client names, privacy signals)
    cors_headers: str = CORS_HEADERS_DEFAULT
    # Each principal validates, introspects and prints only what it could ever receive.
    schema_per_principal: bool = True
    # Staff validate against their own view in development too (as in production); true
    # widens it to the whole schema in development only.
    staff_full_schema: bool = False
    # The console pages under /console; None: on in development only.
    console: bool | None = None
    schema_view_cache_size: int = Field(default=128, gt=0)
    # Per minute, per token and per partner (anonymous: per client IP); 0 turns one off.
    rate_limit_requests: int = Field(default=600, ge=0)
    rate_limit_cost: int = Field(default=300_000, ge=0)  # estimated query cost (shape.measure)

    # Operations (README, "Operations"): logs, metrics, and how the database may fail.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics: bool = True  # GET /metrics (Prometheus); no personal data, unauthenticated
    statement_timeout_ms: int = Field(default=5_000, gt=0)  # a slow statement fails, clearly
    pool_size: int = Field(default=10, gt=0)  # connections kept per process
    max_overflow: int = Field(default=10, ge=0)  # extra connections under bursts
    pool_timeout: float = Field(default=5.0, gt=0)  # seconds to wait for a connection, then 503
    connect_timeout: float = Field(default=5.0, gt=0)  # seconds to open a connection
    shutdown_grace_seconds: int = Field(default=20, ge=0)  # in-flight requests drain this long
    # partners may run only their registered documents; None: on in production only
    trusted_documents: bool | None = None
    # "off" serves every field FULL: only to measure what disclosure costs (make bench),
    # and refused outside development.
    disclosure: Literal["on", "off"] = "on"
    # Queries whose plan is cached are answered by code generated for the plan (the
    # compiled path); off: every operation goes through graphql-core's executor.
    compiled_path: bool = True
    # Retention (README, "Privacy operations"): how long each kind of record is kept, in
    # days, by `fieldgate retention run`.
    retention_login_event_days: int = Field(default=365, gt=0)  # 12 months after the login
    retention_device_days: int = Field(default=365, gt=0)  # 12 months after last seen
    retention_closed_ticket_days: int = Field(default=730, gt=0)  # 24 months after closing
    retention_expired_token_days: int = Field(default=30, gt=0)  # after the token expired
    # withdrawal records and the audit trail: the 3-year limitation period for civil claims
    retention_withdrawn_consent_days: int = Field(default=1095, gt=0)
    retention_audit_days: int = Field(default=1095, gt=0)
    retention_closed_account_days: int = Field(default=365, gt=0)  # one accounting year

    @model_validator(mode="after")
    def _disclosure_off_only_in_development(self) -> Settings:
        if self.disclosure == "off" and self.is_production:
            raise ValueError("FIELDGATE_DISCLOSURE=off is refused in production")
        return self

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(seconds=self.token_ttl_seconds)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def disclosure_enabled(self) -> bool:
        """False only when ``FIELDGATE_DISCLOSURE=off`` in development (benchmarking)."""
        return self.disclosure == "on"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def trusted_documents_enabled(self) -> bool:
        """Whether partners are held to their registered documents."""
        return self.trusted_documents if self.trusted_documents is not None else self.is_production

    @property
    def console_enabled(self) -> bool:
        """Whether the console pages are served (``FIELDGATE_CONSOLE``)."""
        return self.console if self.console is not None else not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cors_allowed_origins(self) -> tuple[str, ...]:
        """``FIELDGATE_CORS_ORIGINS`` as exact origins (``https://host[:port]``)."""
        return tuple(
            origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()
        )

    @property
    def cors_allowed_headers(self) -> tuple[str, ...]:
        """``FIELDGATE_CORS_HEADERS``: the request headers a listed origin may send."""
        return tuple(name.strip() for name in self.cors_headers.split(",") if name.strip())
