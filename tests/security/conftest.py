"""Fixtures for the guards: gateways with other settings on the same seeded database, and
a counter of the SQL statements a request runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldgate.app import create_app
from fieldgate.settings import Settings
from tests.gateway import Gateway

Variant = Callable[..., Gateway]
CountStatements = Callable[[Gateway], Any]

# The development key files under ``key_dir``, named as production requires them.
PRODUCTION_KEY_FILES = {
    "signing_key_file": "signing.pem",
    "data_key_file": "data-keys.json",
    "audit_key_file": "audit.key",
}


@pytest.fixture(scope="session")
def _variants() -> dict[Any, Gateway]:
    return {}


@pytest.fixture(scope="session", autouse=True)
async def _close_variants(_variants: dict[Any, Gateway]) -> AsyncIterator[None]:
    yield
    for variant in _variants.values():
        await variant.client.aclose()
        await variant.services.engine.dispose()


@pytest.fixture
def variant(gateway: Gateway, _variants: dict[Any, Gateway]) -> Variant:
    """``variant(max_depth=3, …)``: the app with these settings changed, on the gateway's
    database and keys (built once per session and settings)."""

    def build(**changes: Any) -> Gateway:
        key = (gateway.database_url, tuple(sorted((k, repr(v)) for k, v in changes.items())))
        if key not in _variants:
            settings = gateway.services.settings.model_copy(update=changes)
            app = create_app(settings)
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            )
            _variants[key] = Gateway(app, client, gateway.database_url)
        return _variants[key]

    return build


@pytest.fixture
def production(gateway: Gateway, variant: Variant) -> Callable[..., Gateway]:
    """``production(**changes)``: the app with ``FIELDGATE_ENV=production`` and key files."""
    settings = gateway.services.settings

    def build(**changes: Any) -> Gateway:
        keys: dict[str, Path] = {
            name: settings.key_dir / filename
            for name, filename in PRODUCTION_KEY_FILES.items()
            if name in Settings.model_fields and getattr(settings, name) is None
        }
        return variant(env="production", **keys, **changes)

    return build
