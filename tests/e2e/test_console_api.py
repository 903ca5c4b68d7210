"""The console's pages and JSON endpoints over ASGI (the browser tests drive the pages)."""

from __future__ import annotations

from typing import Any

import httpx

from fieldgate.app import create_app
from tests.gateway import Gateway


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_pages_and_their_assets_are_served(gateway: Gateway) -> None:
    client = gateway.client
    assert (await client.get("/console")).headers["location"] == "/console/graphiql"
    for page in ("graphiql", "policy", "privacy"):
        html = await client.get(f"/console/{page}")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert f"/console/assets/{page}.js" in html.text and "://" not in html.text
        script = await client.get(f"/console/assets/{page}.js")
        assert script.status_code == 200 and len(script.content) > 1000
    licences = await client.get("/console/assets/THIRD-PARTY-LICENSES.txt")
    assert "graphiql@3.8.3" in licences.text and "react@" in licences.text


async def test_the_principal_and_its_declarable_purposes(gateway: Gateway) -> None:
    anonymous = (await gateway.client.get("/console/api/principal")).json()
    assert anonymous["kind"] == "anonymous" and anonymous["purposes"] == []
    support = await gateway.client.get(
        "/console/api/principal", headers=bearer(await gateway.token("support1"))
    )
    assert support.headers["cache-control"] == "no-store"
    assert support.json()["purposes"] == [
        {
            "name": "CUSTOMER_SUPPORT",
            "description": "after-sales service, complaints, disputes",
            "consent": False,
        }
    ]
    alice = await gateway.client.get(
        "/console/api/principal", headers=bearer(await gateway.token("alice"))
    )
    assert [p["name"] for p in alice.json()["purposes"]] == [
        "ACCOUNT",
        "LEARNING",
        "PERSONALISATION",
        "RIGHTS",
    ]
    assert alice.json()["defaultPurpose"] == "RIGHTS"


async def test_explain_for_the_current_operation(gateway: Gateway) -> None:
    query = (
        "query @purpose(name: CUSTOMER_SUPPORT) "
        "{ orders(first: 2) { edges { node { orderNo buyerPhone bankCard } } } }"
    )
    response = await gateway.client.post(
        "/console/api/explain",
        json={"query": query},
        headers=bearer(await gateway.token("support1")),
    )
    rows: list[dict[str, Any]] = response.json()["rows"]
    by_field = {r["field"]: r for r in rows}
    assert by_field["Order.bankCard"]["other"] == "DENIED"
    assert by_field["Order.buyerPhone"]["mask"] == "PHONE"
    bad = await gateway.client.post("/console/api/explain", json={"query": "{ nope }"})
    assert bad.status_code == 400


async def test_the_policy_grid_is_for_those_who_may_read_the_policy(gateway: Gateway) -> None:
    client = gateway.client
    assert (await client.get("/console/api/policy-grid")).status_code == 401
    support = bearer(await gateway.token("support1"))
    assert (await client.get("/console/api/policy-grid", headers=support)).status_code == 403
    dpo = bearer(await gateway.token("dpo"))
    grid = await client.get("/console/api/policy-grid", headers=dpo)
    assert grid.status_code == 200 and 'class="fg-grid"' in grid.text
    csv = await client.get("/console/api/policy-grid?format=csv", headers=dpo)
    assert csv.text.startswith("field,level,role,purpose")
    admin = bearer(await gateway.token("admin"))
    assert (await client.get("/console/api/policy-grid", headers=admin)).status_code == 200


async def test_demo_tokens_in_development(gateway: Gateway) -> None:
    listed = (await gateway.client.get("/console/api/demo-principals")).json()
    assert "sf-express" in [p["name"] for p in listed["partners"]]
    issued = await gateway.client.post("/console/api/demo-token", json={"name": "sf-express"})
    token = issued.json()["token"]
    me = await gateway.gql("{ me { id } }", token=token)
    assert me["data"] == {"me": None}
    refused = await gateway.client.post("/console/api/demo-token", json={"name": "someone"})
    assert refused.status_code == 404


async def test_production_has_no_console_unless_enabled_and_never_demo_tokens(
    gateway: Gateway,
) -> None:
    settings = gateway.services.settings
    keys = settings.key_dir
    production = settings.model_copy(
        update={
            "env": "production",
            "signing_key_file": keys / "signing.pem",
            "data_key_file": keys / "data-keys.json",
            "audit_key_file": keys / "audit.key",
        }
    )
    for enabled, page_status in ((None, 404), (True, 200)):
        app = create_app(production.model_copy(update={"console": enabled}))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            assert (await client.get("/console/graphiql")).status_code == page_status
            demo = await client.post("/console/api/demo-token", json={"name": "admin"})
            assert demo.status_code in (404, 405)
        await app.state.services.engine.dispose()
