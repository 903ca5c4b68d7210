"""MARKETING over many users: a withdrawal withholds that user's contact data on the next
request (on every instance), a new consent brings it back, and the others are untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from fieldgate.app import create_app
from fieldgate.settings import Settings
from tests.gateway import Gateway

QUERY = (
    "query @purpose(name: MARKETING) { users(first: 100) { edges { node { id phone email } } } }"
)


def by_id(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["node"]["id"]: e["node"] for e in payload["data"]["users"]["edges"]}


async def test_withdraw_and_grant_marketing(gateway: Gateway, tmp_path: Path) -> None:
    alice = await gateway.token("alice")
    alice_id = (await gateway.gql("{ me { id } }", token=alice))["data"]["me"]["id"]
    marketing = await gateway.token("marketing1")
    # a second instance on the same database: nothing of consent is cached in a process
    other_app = create_app(
        Settings(database_url=gateway.database_url, key_dir=gateway.services.settings.key_dir)
    )
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=other_app), base_url="http://b")
    headers = {"authorization": f"Bearer {marketing}", "content-type": "application/json"}
    try:
        before = by_id(await gateway.gql(QUERY, token=marketing))
        assert before[alice_id]["phone"] and before[alice_id]["email"]
        consenting_others = {i for i, n in before.items() if n["phone"] and i != alice_id}
        assert consenting_others, "other users opted in to marketing"

        withdrawn = await gateway.gql(
            'mutation { withdrawConsent(purpose: "MARKETING") { purpose active } }', token=alice
        )
        assert withdrawn.get("errors") is None, withdrawn
        for payload in (
            await gateway.gql(QUERY, token=marketing),
            (await other.post("/graphql", json={"query": QUERY}, headers=headers)).json(),
        ):
            after = by_id(payload)
            assert after[alice_id]["phone"] is None and after[alice_id]["email"] is None
            assert {i for i, n in after.items() if n["phone"]} == consenting_others
            reasons = {e["extensions"]["reason"] for e in payload["errors"]}
            assert "CONSENT_REQUIRED" in reasons

        await gateway.gql(
            'mutation { grantConsent(purpose: "MARKETING") { purpose } }', token=alice
        )
        again = by_id((await other.post("/graphql", json={"query": QUERY}, headers=headers)).json())
        assert again[alice_id]["phone"] == before[alice_id]["phone"]
    finally:
        await other.aclose()
        services = other_app.state.services
        if services.audit is not None:
            await services.audit.close()
        await services.engine.dispose()
