"""Browsers: CORS for exactly the configured origins; any other origin gets no CORS
header at all, and with no origin configured nobody does."""

from __future__ import annotations

import httpx
import pytest

from fieldgate.errors import ConfigurationError
from fieldgate.http.cors import cors_middleware
from tests.gateway import Gateway
from tests.security.conftest import Variant

APP = "https://app.example"
CONSOLE = "https://console.example:8443"
ORIGINS = f"{APP}, {CONSOLE}/"
QUERY = {"query": "{ courses(first: 1) { totalCount } }"}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("origin", [APP, CONSOLE])
async def test_a_listed_origin_may_call(variant: Variant, origin: str) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.post("/graphql", json=QUERY, headers={"origin": origin})
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
    }
    assert "Origin" in response.headers["vary"]


async def test_refusals_carry_cors_so_the_page_can_read_them(variant: Variant) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.post(
        "/graphql", json=QUERY, headers={"origin": APP, "authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == APP


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.example", "https://app.example.evil", "null"]
)
async def test_another_origin_gets_no_cors_header(variant: Variant, origin: str) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.post("/graphql", json=QUERY, headers={"origin": origin})
    assert response.status_code == 200  # a browser will not let the page read it
    assert cors_headers(response) == {}
    preflight = await gateway.client.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert cors_headers(preflight) == {}
    assert preflight.status_code == 405


async def test_preflight(variant: Variant) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.options(
        "/graphql",
        headers={
            "origin": APP,
            "access-control-request-method": "POST",
            "access-control-request-headers": "Authorization, Content-Type, Fieldgate-Strict, X-Request-Id",
        },
    )
    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-methods"] == "GET, POST"
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "fieldgate-strict", "x-request-id"} <= allowed
    for method, extra in (("PUT", None), ("POST", "x-secret")):
        refused = await gateway.client.options(
            "/graphql",
            headers={
                "origin": APP,
                "access-control-request-method": method,
                **({"access-control-request-headers": extra} if extra else {}),
            },
        )
        assert refused.status_code == 400


async def test_no_origin_configured_means_no_cors(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json=QUERY, headers={"origin": APP})
    assert cors_headers(response) == {}


def test_a_wildcard_is_refused() -> None:
    assert cors_middleware(()) == []
    with pytest.raises(ConfigurationError, match="exact origins"):
        cors_middleware(("*",))
    with pytest.raises(ConfigurationError):
        cors_middleware((APP, "https://*.example"))
