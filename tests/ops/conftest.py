"""Fixtures of the operations tests: extra apps on the seeded demo databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from fieldgate.app import create_app
from fieldgate.resolvers.context import Services
from fieldgate.settings import Settings
from tests.gateway import Gateway
from tests.ops.proxy import TCPProxy

SideApp = tuple[Starlette, httpx.AsyncClient]
MakeApp = Callable[..., SideApp]


def services_of(app: Starlette) -> Services:
    services: Services = app.state.services
    return services


@pytest.fixture
async def make_app(gateway: Gateway, key_dir: Path) -> AsyncIterator[MakeApp]:
    """``make_app(database_url=…, **settings)``: another app on the gateway's demo data
    (or on ``database_url``), closed at the end of the test."""
    made: list[SideApp] = []

    def make(database_url: str | None = None, **settings: Any) -> SideApp:
        url = database_url or gateway.database_url
        app = create_app(Settings(database_url=url, key_dir=key_dir, **settings))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        made.append((app, client))
        return app, client

    yield make
    for app, client in made:
        await client.aclose()
        services = services_of(app)
        if services.audit is not None:
            await services.audit.close()
        await services.engine.dispose()


@pytest.fixture
async def proxy(gateway: Gateway) -> AsyncIterator[TCPProxy]:
    """A TCP proxy in front of the gateway's PostgreSQL, that the test can cut."""
    url = make_url(gateway.database_url)
    running = TCPProxy(url.host or "127.0.0.1", url.port or 5432)
    await running.start()
    yield running
    await running.close()
