"""Cross-site requests: only JSON bodies are read, GET never runs a mutation, other
methods are refused; each refusal has its code and no SQL runs for it."""

from __future__ import annotations

import json

import pytest

from tests.gateway import Gateway, recorded_statements
from tests.security.conftest import Variant

QUERY = json.dumps({"query": "{ courses(first: 1) { totalCount } }"})
LOGIN = 'mutation { login(username: "alice", password: "fieldgate-demo") { token expiresAt } }'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", QUERY),  # what a cross-site <form enctype="text/plain"> sends
        ("text/plain;charset=UTF-8", QUERY),
        ("application/x-www-form-urlencoded", "query=%7B%20courses%20%7B%20totalCount%20%7D%20%7D"),
        (
            "multipart/form-data; boundary=b",
            f'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{QUERY}\r\n--b--\r\n',
        ),
        ("application/graphql", "{ courses { totalCount } }"),
        ("application/json; charset=latin-1", QUERY),
        (None, QUERY),
    ],
)
async def test_bodies_other_than_json_are_refused(
    variant: Variant, content_type: str | None, body: str
) -> None:
    gateway = variant()
    headers = {"content-type": content_type} if content_type else {}
    with recorded_statements(gateway) as statements:
        response = await gateway.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json() == {
        "errors": [
            {
                "message": "send the operation as application/json",
                "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"},
            }
        ]
    }
    assert statements == []


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_json_is_read(gateway: Gateway, content_type: str) -> None:
    response = await gateway.client.post(
        "/graphql", content=QUERY, headers={"content-type": content_type}
    )
    assert response.status_code == 200
    assert response.json()["data"]["courses"]["totalCount"] > 0


async def test_a_text_plain_mutation_with_a_token_does_not_run(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    body = json.dumps({"query": 'mutation { updateMyProfile(input: {nickname: "csrf"}) { id } }'})
    response = await gateway.client.post(
        "/graphql",
        content=body,
        headers={"content-type": "text/plain", "authorization": f"Bearer {token}"},
    )
    assert response.status_code == 415
    me = await gateway.gql("{ me { nickname } }", token=token)
    assert me["data"]["me"]["nickname"] != "csrf"


async def test_get_never_runs_a_mutation(variant: Variant) -> None:
    gateway = variant()
    with recorded_statements(gateway) as statements:
        response = await gateway.client.get("/graphql", params={"query": LOGIN})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert statements == []
    # the same operation over POST runs
    assert (await gateway.gql(LOGIN))["data"]["login"]


async def test_get_runs_queries(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql", params={"query": "{ courses(first: 2) { totalCount } }"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["courses"]["totalCount"] > 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_are_refused(variant: Variant, method: str) -> None:
    gateway = variant()
    with recorded_statements(gateway) as statements:
        response = await gateway.client.request(
            method, "/graphql", content=QUERY, headers={"content-type": "application/json"}
        )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert statements == []


async def test_malformed_bodies_are_bad_requests(gateway: Gateway) -> None:
    headers = {"content-type": "application/json"}
    for body in (b"{", b"\xff\xfe{}", b"42", b'"query"', b"null", b'{"query": 5}',
                 b'{"query": "{ __typename }", "variables": []}',
                 b'{"query": "{ __typename }", "operationName": 5}'):  # fmt: skip
        response = await gateway.client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    missing = await gateway.client.get("/graphql", headers={"accept": "application/json"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
