"""The JSON log lines: request id, principal, purpose, and never a value, token or trace."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import structlog
from sqlalchemy import text
from starlette.types import Receive, Scope, Send

from fieldgate.http.observer import RequestObserver
from fieldgate.observability.logging import configure_logging
from tests.gateway import Gateway

ALICE_PHONE = "query MyPhone { me { phone } }"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Capture the JSON lines; stderr again afterwards."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield stream
    configure_logging("INFO")


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


async def alice_phone(gateway: Gateway) -> str:
    async with gateway.services.engine.connect() as connection:
        found = await connection.execute(text("SELECT phone FROM users WHERE username = 'alice'"))
        phone = found.scalar_one()
    assert isinstance(phone, str) and len(phone) >= 11
    return phone


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_request_line_names_the_request_and_no_value(
    gateway: Gateway, log_lines: io.StringIO
) -> None:
    phone = await alice_phone(gateway)
    token = await gateway.token("alice")
    response = await gateway.post(
        ALICE_PHONE, token=token, headers={"x-request-id": "ops-log.check_1"}
    )
    assert response.json()["data"]["me"]["phone"] == phone  # the value was disclosed
    assert response.headers["x-request-id"] == "ops-log.check_1"

    lines = parsed(log_lines)
    (line,) = [x for x in lines if x.get("event") == "request"]
    assert line["request_id"] == "ops-log.check_1"
    assert line["method"] == "POST"
    assert line["path"] == "/graphql"
    assert line["status"] == 200
    assert line["principal_kind"] == "user"
    assert line["roles"] == ["user"]
    assert line["purpose"] == "RIGHTS"
    assert line["operation"] == "MyPhone"
    assert line["level"] == "info"
    assert isinstance(line["duration_ms"], float)
    text = log_lines.getvalue()
    assert phone not in text
    assert token not in text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_invalid_request_id_is_replaced_and_the_query_string_is_not_logged(
    gateway: Gateway, log_lines: io.StringIO
) -> None:
    response = await gateway.client.get(
        "/graphql",
        params={"query": "{ courses(first: 1) { edges { node { title } } } }"},
        headers={"accept": "application/json", "x-request-id": "not a plain id; " + "x" * 80},
    )
    assert response.status_code == 200
    given = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", given)
    (line,) = [x for x in parsed(log_lines) if x.get("event") == "request"]
    assert line["request_id"] == given
    assert line["path"] == "/graphql"
    assert line["principal_kind"] == "anonymous"
    assert "courses" not in log_lines.getvalue()  # nothing of the query string


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_error_lines_carry_codes_and_the_request_id(
    gateway: Gateway, log_lines: io.StringIO
) -> None:
    token = await gateway.token("support1")
    payload = await gateway.gql(
        'query Lookup @purpose(name: CUSTOMER_SUPPORT) { user(id: "999999") { id } }',
        token=token,
        headers={"x-request-id": "ops-errors"},
    )
    assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    errors = [x for x in parsed(log_lines) if x.get("event") == "operation_error"]
    assert errors and all(x["code"] == "NOT_FOUND" for x in errors)
    assert all(x["request_id"] == "ops-errors" for x in errors)


async def test_an_escaped_error_is_logged_by_id_without_class_text_or_trace(
    log_lines: io.StringIO,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret-value-13800001234")

    app = RequestObserver(broken)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    logging.getLogger("uvicorn.error").exception("Exception in ASGI application", exc_info=True)
    try:
        raise ValueError("another-secret")
    except ValueError:
        logging.getLogger("some.library").exception("it failed")
    structlog.get_logger("fieldgate.graphql").error("resolver_failed", error_class="RuntimeError")
    lines = parsed(log_lines)
    (resolver,) = [x for x in lines if x.get("event") == "resolver_failed"]
    assert "error_class" not in resolver and "error_id" in resolver
    (failed,) = [x for x in lines if x.get("event") == "request_failed"]
    assert failed["error_id"] == error_id
    assert failed["code"] == "INTERNAL_SERVER_ERROR"
    library = [x for x in lines if x.get("event") == "it failed"]
    assert library and "error_id" in library[0]
    text = log_lines.getvalue()
    for leaked in ("secret-value", "another-secret", "RuntimeError", "ValueError", "Traceback"):
        assert leaked not in text
    for line in lines:
        orjson.dumps(line)  # plain JSON values only
