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
        "access-control-expose-headers": "X-Request-Id, Retry-After",
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


TRACING = (
    "traceparent, tracestate, baggage, sentry-trace, apollographql-client-name, "
    "apollographql-client-version, DNT, Sec-GPC"
)


async def test_preflight_allows_tracing_and_privacy_headers_by_default(variant: Variant) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.options(
        "/graphql",
        headers={
            "origin": APP,
            "access-control-request-method": "POST",
            "access-control-request-headers": f"authorization, content-type, {TRACING}",
        },
    )
    assert response.status_code == 200
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {h.strip().lower() for h in TRACING.split(",")} <= allowed


async def test_allowed_headers_are_configurable(variant: Variant) -> None:
    gateway = variant(cors_origins=ORIGINS, cors_headers="Authorization, Content-Type, X-Team")
    asked = {"origin": APP, "access-control-request-method": "POST"}
    custom = await gateway.client.options(
        "/graphql", headers={**asked, "access-control-request-headers": "x-team"}
    )
    assert custom.status_code == 200
    dropped = await gateway.client.options(
        "/graphql", headers={**asked, "access-control-request-headers": "traceparent"}
    )
    assert dropped.status_code == 400


async def test_the_page_may_read_the_request_id_and_retry_after(variant: Variant) -> None:
    gateway = variant(cors_origins=ORIGINS)
    response = await gateway.client.post("/graphql", json=QUERY, headers={"origin": APP})
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed == {"x-request-id", "retry-after"}


@pytest.mark.parametrize(
    "origin", ["app.example", "app.example:8443", "ftp://app.example", "https://"]
)
def test_an_origin_without_a_scheme_is_refused(origin: str) -> None:
    with pytest.raises(ConfigurationError, match="is not an origin"):
        cors_middleware((APP, origin))
