"""The database a run measures: migrated and seeded with the demo data when empty."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from fieldgate.crypto.keyring import load_keyring
from fieldgate.demo.seed import seed_demo
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.settings import Settings

# Smaller than the demo defaults (seeds in about a second) and still more than a page
# of 100 orders for the support agent and for each logistics partner.
DEMO_SIZES: dict[str, int] = {"users": 300, "courses": 50, "orders": 2000, "tickets": 200}
DEMO_SEED = 42


@dataclass(frozen=True, slots=True)
class PreparedDatabase:
    """A database at the head revision holding the demo data."""

    url: str
    temporary: bool
    seeding: str  # what seeding did, one human line

    @property
    def backend(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def display_url(self) -> str:
        """The URL without its password, for the report."""
        return make_url(self.url).render_as_string(hide_password=True)


def temporary_sqlite_url(folder: Path) -> str:
    """A new SQLite file in ``folder``."""
    return f"sqlite+aiosqlite:///{folder / 'bench.db'}"


async def prepare_database(url: str | None, folder: Path) -> PreparedDatabase:
    """Migrate ``url`` (default: a new SQLite file in ``folder``) and seed it if empty.

    Seeding is skipped when the demo data is already there (the user ``alice`` exists).
    """
    temporary = url is None
    target = temporary_sqlite_url(folder) if url is None else url
    await asyncio.to_thread(upgrade, target)  # Alembic is synchronous
    # sealed with the data keys the gateways load (build_gateways: ``folder / "keys"``)
    keyring = load_keyring(Settings(env="development", key_dir=folder / "keys", data_key_file=None))
    engine = create_engine(target)
    try:
        report = await seed_demo(
            engine, keyring=keyring, seed=DEMO_SEED, progress=False, **DEMO_SIZES
        )
    finally:
        await engine.dispose()
    return PreparedDatabase(target, temporary, report.summary())
