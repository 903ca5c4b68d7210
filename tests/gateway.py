"""End-to-end fixtures: a seeded database per backend and the ASGI app in front of it.

Loaded as a pytest plugin by the root conftest, so that every test folder can use them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from fieldgate.app import create_app
from fieldgate.crypto.keyring import Keyring, load_keyring
from fieldgate.demo.seed import seed_demo
from fieldgate.identity.issuance import issue_for_subject
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.resolvers.context import Services
from fieldgate.settings import Settings

DEMO_SIZES = {"users": 60, "courses": 20, "orders": 240, "tickets": 40}


@dataclass
class Gateway:
    """One running app on one seeded database, with shortcuts for tests."""

    app: Starlette
    client: httpx.AsyncClient
    database_url: str

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def token(self, subject: str, **narrowing: Any) -> str:
        services = self.services
        return await issue_for_subject(
            services.engine,
            services.tokens,
            subject,
            ttl=services.settings.token_ttl,
            **narrowing,
        )

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"content-type": "application/json", **(headers or {})}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=sent)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL operation (as subject ``as_``, or with ``token``) and decode it."""
        if as_ is not None:
            token = await self.token(as_)
        response = await self.post(query, variables, token=token, headers=headers)
        payload: dict[str, Any] = response.json()
        return payload


@contextmanager
def recorded_statements(gateway: Gateway) -> Iterator[list[str]]:
    """The SQL statements the gateway's engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = gateway.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def _gateways() -> dict[str, Gateway]:
    return {}


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


async def seeded_database(
    make: Callable[[str], Awaitable[str]], backend: str, keyring: Keyring
) -> str:
    """A new migrated database holding the demo data, sealed with ``keyring``."""
    url = await make(backend)
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    try:
        await seed_demo(engine, keyring=keyring, seed=7, progress=False, **DEMO_SIZES)
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def gateway(
    backend: str,
    database_factory: Callable[[str], Awaitable[str]],
    _gateways: dict[str, Gateway],
    key_dir: Path,
) -> AsyncIterator[Gateway]:
    """The app on demo data, built once per backend per session (tests may add rows)."""
    if backend not in _gateways:
        keyring = load_keyring(Settings(key_dir=key_dir))  # the key file the app loads too
        url = await seeded_database(database_factory, backend, keyring)
        # Staff validate against the whole schema here (a development setting), so that
        # tests can ask for what the engine denies them; tests/security/test_parity.py runs the
        # default, where they validate against their own view as in production.
        settings = Settings(database_url=url, key_dir=key_dir, staff_full_schema=True)
        app = create_app(settings)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        _gateways[backend] = Gateway(app, client, url)
    yield _gateways[backend]


@pytest.fixture(scope="session", autouse=True)
async def _close_gateways(_gateways: dict[str, Gateway]) -> AsyncIterator[None]:
    yield
    for gateway in _gateways.values():
        await gateway.client.aclose()
        if gateway.services.audit is not None:
            await gateway.services.audit.close()  # store the queued audit events first
        await gateway.services.engine.dispose()
