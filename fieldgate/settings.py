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
    policy_dir: Path = PACKAGED_POLICY_DIR
    redis_url: str | None = None

    token_issuer: str = "fieldgate"
    token_audience: str = "fieldgate-api"
    token_ttl_seconds: int = Field(default=3600, gt=0)
    max_page_size: int = Field(default=100, gt=0)
    plan_cache_size: int = Field(default=512, gt=0)
    graphiql: bool | None = None

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
