"""Partners end to end: trusted documents, scopes that narrow, and token administration.

The trusted-documents gateway is a second app on the same seeded database with
``trusted_documents`` on (what production does by default).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from fieldgate.app import create_app
from fieldgate.cli import app as cli
from fieldgate.documents.store import TrustedDocuments, register_document
from fieldgate.models import AuditEvent
from fieldgate.models.tables import persisted_documents, users
from tests.gateway import Gateway
from tests.matrix.expectations import cases

EXPECTED = cases()
ORDER_FIELDS = (
    "id",
    "orderNo",
    "status",
    "amountCents",
    "buyerName",
    "buyerPhone",
    "deliveryAddress",
    "bankCard",
)
# partner name -> (role, the purpose it declares)
PARTNERS = {
    "sf-express": ("logistics", "DELIVERY"),
    "unionpay": ("payment", "PAYMENT"),
    "merchant-1": ("merchant", "ORDER_FULFILLMENT"),
    "insight-1": ("analytics", "ANALYTICS"),
}
GRAPHQL_RESPONSE = "application/graphql-response+json"
audit_events = AuditEvent.__table__  # type: ignore[attr-defined]


def orders_document(purpose: str, fields: tuple[str, ...] = ORDER_FIELDS) -> str:
    """An orders query; the comment makes each document (and its hash) new."""
    selected = " ".join(fields)
    return (
        f"query PartnerOrders @purpose(name: {purpose}) "
        f"{{ orders(first: 10) {{ edges {{ node {{ {selected} }} }} }} }}\n# {uuid.uuid4()}"
    )


def codes(payload: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in payload.get("errors", [])]


@asynccontextmanager
async def another_app(gateway: Gateway, **changes: Any) -> AsyncIterator[Gateway]:
    """The app with these settings changed, on the gateway's database and keys."""
    app = create_app(gateway.services.settings.model_copy(update=changes))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield Gateway(app, client, gateway.database_url)
    await app.state.services.engine.dispose()


@pytest.fixture
async def trusted(gateway: Gateway) -> AsyncIterator[Gateway]:
    """Trusted documents on (what production does by default)."""
    async with another_app(gateway, trusted_documents=True) as app:
        yield app


@pytest.fixture
async def whole_schema(gateway: Gateway) -> AsyncIterator[Gateway]:
    """Every principal validated against the whole schema (no per-principal view), so that
    refusals come from the policy rather than from a field being absent."""
    async with another_app(gateway, schema_per_principal=False) as app:
        yield app


async def register(gateway: Gateway, admin: str, document: str, *partners: str) -> str:
    payload = await gateway.gql(
        "mutation R($d: String!, $p: [String!]) { registerDocument(document: $d, partners: $p) }",
        {"d": document, "p": list(partners)},
        token=admin,
    )
    assert "errors" not in payload, payload
    digest: str = payload["data"]["registerDocument"]
    return digest


async def offer(gateway: Gateway, admin: str, document: str, *partners: str) -> bool:
    """Register ``document``: True when stored, False when refused as outside a partner's view."""
    payload = await gateway.gql(
        "mutation R($d: String!, $p: [String!]) { registerDocument(document: $d, partners: $p) }",
        {"d": document, "p": list(partners)},
        token=admin,
    )
    if "errors" not in payload:
        return True
    assert codes(payload) == ["BAD_USER_INPUT"], payload
    assert "outside the view of partner" in payload["errors"][0]["message"]
    return False


def disclosed(role: str, purpose: str) -> tuple[str, ...]:
    """The order fields the matrix discloses (FULL or MASKED) to ``role``."""
    return tuple(
        name
        for name in ORDER_FIELDS
        if EXPECTED[(role, purpose)][f"Order.{name}"].other != "DENIED"
    )


def withheld(role: str, purpose: str) -> tuple[str, ...]:
    """The order fields the matrix denies to ``role``."""
    return tuple(name for name in ORDER_FIELDS if name not in disclosed(role, purpose))


def check_never_disclosed(payload: dict[str, Any], name: str) -> None:
    """A denied field is refused: absent from the caller's schema, or null with an error."""
    if codes(payload) == ["GRAPHQL_VALIDATION_FAILED"]:
        return
    nodes = [edge["node"] for edge in payload["data"]["orders"]["edges"]]
    assert all(node[name] is None for node in nodes), name
    assert f"Order.{name}" in {e["extensions"].get("field") for e in payload["errors"]}


def check_against_matrix(
    payload: dict[str, Any], role: str, purpose: str, fields: tuple[str, ...] = ORDER_FIELDS
) -> None:
    """Each field is disclosed as tests/matrix/expectations.csv says for ``role``."""
    assert "errors" not in payload or all(c == "FORBIDDEN_FIELD" for c in codes(payload)), payload
    nodes = [edge["node"] for edge in payload["data"]["orders"]["edges"]]
    assert nodes, "the partner sees some orders in the demo data"
    masked = set(payload["extensions"]["disclosure"]["masked"])
    denied_fields = {e["extensions"]["field"] for e in payload.get("errors", [])}
    for name in fields:
        coordinate = f"Order.{name}"
        expected = EXPECTED[(role, purpose)][coordinate].other
        if expected == "DENIED":
            assert coordinate in denied_fields, coordinate
            assert all(node[name] is None for node in nodes), coordinate
        elif expected == "MASKED":
            assert coordinate in masked and coordinate not in denied_fields, coordinate
        else:
            assert coordinate not in masked and coordinate not in denied_fields, coordinate
            assert any(node[name] is not None for node in nodes), coordinate


@pytest.mark.parametrize("partner", sorted(PARTNERS))
async def test_partner_runs_only_its_registered_documents(
    gateway: Gateway, trusted: Gateway, partner: str
) -> None:
    role, purpose = PARTNERS[partner]
    other = next(p for p in sorted(PARTNERS) if p != partner)
    admin = await trusted.token("admin")
    fields = disclosed(role, purpose)
    own = orders_document(purpose, fields)
    foreign = orders_document(purpose, fields)
    digest = await register(trusted, admin, own, partner)
    await offer(trusted, admin, foreign, other)
    assert digest == hashlib.sha256(own.encode()).hexdigest()
    token = await trusted.token(partner)

    check_against_matrix(await trusted.gql(own, token=token), role, purpose, fields)
    denied = {name: orders_document(purpose, ("id", name)) for name in withheld(role, purpose)}
    registered = {name: await offer(trusted, admin, d, partner) for name, d in denied.items()}
    await asyncio.sleep(1.0)  # the allow list is cached for up to a second
    for name, document in denied.items():
        payload = await trusted.gql(document, token=token)
        if registered[name]:
            check_never_disclosed(payload, name)
        else:
            assert codes(payload) == ["DOCUMENT_NOT_ALLOWED"], payload

    hash_only = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    sent = {"authorization": f"Bearer {token}"}
    by_hash = await trusted.client.post("/graphql", json=hash_only, headers=sent)
    check_against_matrix(by_hash.json(), role, purpose, fields)

    unregistered = await trusted.post(orders_document(purpose, fields), token=token)
    assert unregistered.status_code == 200
    assert codes(unregistered.json()) == ["DOCUMENT_NOT_ALLOWED"]
    assert unregistered.json()["data"] is None

    strict_media = {"accept": GRAPHQL_RESPONSE}
    refused = await trusted.post(foreign, token=token, headers=strict_media)
    assert refused.status_code == 400
    assert codes(refused.json()) == ["DOCUMENT_NOT_ALLOWED"]
    assert "data" not in refused.json()


async def test_users_and_staff_keep_ad_hoc_queries(trusted: Gateway) -> None:
    mine = await trusted.gql("{ me { username } }", as_="alice")
    assert mine["data"]["me"]["username"] == "alice"
    staff = await trusted.gql(
        "query S @purpose(name: CUSTOMER_SUPPORT) { tickets(first: 1) { totalCount } }",
        as_="support1",
    )
    assert "errors" not in staff, staff


async def test_trusted_documents_are_off_in_development_by_default(gateway: Gateway) -> None:
    payload = await gateway.gql(orders_document("DELIVERY", ("orderNo",)), as_="sf-express")
    assert "DOCUMENT_NOT_ALLOWED" not in codes(payload)
    assert payload["data"]["orders"]["edges"]


async def test_allow_list_sees_a_registration_after_its_ttl(gateway: Gateway) -> None:
    engine = gateway.services.engine
    now = [0.0]
    allow = TrustedDocuments(engine, ttl=1.0, clock=lambda: now[0])
    document = orders_document("PAYMENT")
    digest = hashlib.sha256(document.encode()).hexdigest()
    partner_id = gateway.services.tokens.verify(await gateway.token("unionpay")).partner_id
    assert partner_id is not None
    assert not await allow.allows(partner_id, digest)
    await register_document(engine, document, created_by="staff:1", partners=["unionpay"])
    assert not await allow.allows(partner_id, digest)  # still the cached list
    now[0] = 1.0
    assert await allow.allows(partner_id, digest)


async def test_a_narrower_scope_narrows(gateway: Gateway, whole_schema: Gateway) -> None:
    token = await gateway.token("sf-express", scopes=["Order.orderNo"])
    document = orders_document("DELIVERY", ("orderNo", "buyerPhone"))
    check_never_disclosed(await gateway.gql(document, token=token), "buyerPhone")
    payload = await whole_schema.gql(document, token=token)
    nodes = [edge["node"] for edge in payload["data"]["orders"]["edges"]]
    assert nodes and all(n["orderNo"] is not None and n["buyerPhone"] is None for n in nodes)
    (error,) = payload["errors"]
    assert error["extensions"]["field"] == "Order.buyerPhone"
    assert error["extensions"]["code"] == "FORBIDDEN_FIELD"
    assert error["extensions"]["reason"] == "OUT_OF_SCOPE"


async def test_a_wider_scope_grants_nothing_more(gateway: Gateway) -> None:
    token = await gateway.token("sf-express", scopes=["Order.*", "Order:*", "User.*"])
    fields = disclosed("logistics", "DELIVERY")
    payload = await gateway.gql(orders_document("DELIVERY", fields), token=token)
    check_against_matrix(payload, "logistics", "DELIVERY", fields)
    for name in withheld("logistics", "DELIVERY"):
        denied = await gateway.gql(orders_document("DELIVERY", ("id", name)), token=token)
        check_never_disclosed(denied, name)


async def audit_count(gateway: Gateway, kind: str) -> int:
    async with gateway.services.engine.connect() as conn:
        query = select(func.count()).select_from(audit_events).where(audit_events.c.kind == kind)
        count: int = (await conn.execute(query)).scalar_one()
    return count


async def wait_for_audit(gateway: Gateway, kind: str, above: int) -> int:
    for _ in range(50):
        count = await audit_count(gateway, kind)
        if count > above:
            return count
        await asyncio.sleep(0.05)
    return await audit_count(gateway, kind)


ISSUE = """mutation I($s: String!, $scopes: [String!]) {
  issueToken(subject: $s, scopes: $scopes, ttl: "10m") { token jti subject expiresAt }
}"""
LIST = """query L($s: String) {
  issuedTokens(subject: $s, first: 100) { totalCount nodes { jti subject issuedAt revokedAt } }
}"""


async def test_admin_issues_lists_and_revokes_tokens(gateway: Gateway) -> None:
    admin = await gateway.token("admin")
    issued_before = await audit_count(gateway, "token_issued")
    revoked_before = await audit_count(gateway, "token_revoked")

    payload = await gateway.gql(
        ISSUE, {"s": "sf-express", "scopes": ["Order.orderNo"]}, token=admin
    )
    assert "errors" not in payload, payload
    issued = payload["data"]["issueToken"]
    assert issued["subject"].startswith("partner:")
    partner_token = issued["token"]
    works = await gateway.gql(orders_document("DELIVERY", ("orderNo",)), token=partner_token)
    assert works["data"]["orders"]["edges"]

    listed = await gateway.gql(LIST, {"s": "sf-express"}, token=admin)
    nodes = listed["data"]["issuedTokens"]["nodes"]
    assert issued["jti"] in {n["jti"] for n in nodes}
    assert all(n["subject"] == issued["subject"] for n in nodes)
    assert "token" not in nodes[0]

    revoked = await gateway.gql(
        "mutation V($j: ID!) { revokeToken(jti: $j) }", {"j": issued["jti"]}, token=admin
    )
    assert revoked["data"]["revokeToken"] is True
    refused = await gateway.post("{ courses(first: 1) { totalCount } }", token=partner_token)
    assert refused.status_code == 401
    assert codes(refused.json()) == ["UNAUTHENTICATED"]
    missing = await gateway.gql('mutation { revokeToken(jti: "no-such-token") }', token=admin)
    assert missing["data"]["revokeToken"] is False

    assert await wait_for_audit(gateway, "token_issued", issued_before) > issued_before
    assert await wait_for_audit(gateway, "token_revoked", revoked_before) > revoked_before


async def test_an_admin_revokes_every_token_of_a_subject(gateway: Gateway) -> None:
    admin = await gateway.token("admin")
    held = [await gateway.token("merchant-1") for _ in range(2)]
    other = await gateway.token("unionpay")
    revoke = "mutation($s: String!) { revokeTokensOf(subject: $s) }"
    revoked = await gateway.gql(revoke, {"s": "merchant-1"}, token=admin)
    assert revoked["data"]["revokeTokensOf"] >= 2
    for token in held:
        refused = await gateway.post("{ courses(first: 1) { totalCount } }", token=token)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["reason"] == "revoked"
    kept = await gateway.post("{ courses(first: 1) { totalCount } }", token=other)
    assert kept.status_code == 200
    unknown = await gateway.gql(revoke, {"s": "no-such-partner"}, token=admin)
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    refused_to = await gateway.gql(revoke, {"s": "merchant-1"}, as_="support1")
    assert refused_to["errors"][0]["extensions"]["code"] in {
        "FORBIDDEN",
        "GRAPHQL_VALIDATION_FAILED",
    }


async def test_a_closed_account_s_tokens_are_refused_as_closed(gateway: Gateway) -> None:
    name = f"closing-{uuid.uuid4().hex[:8]}"
    register = "mutation($i: RegisterInput!) { register(input: $i) }"
    token = (await gateway.gql(register, {"i": {"username": name, "password": "a long password"}}))[
        "data"
    ]["register"]
    assert (await gateway.post("{ me { id } }", token=token)).status_code == 200
    async with gateway.services.engine.begin() as connection:
        # closed without its tokens revoked: the account's state alone refuses them
        await connection.execute(
            update(users).where(users.c.username == name).values(closed_at=func.now())
        )
    refused = await gateway.post("{ me { id } }", token=token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": "closed",
    }


@pytest.mark.parametrize("subject", ["support1", "dpo", "alice", "sf-express"])
async def test_non_admins_get_forbidden(whole_schema: Gateway, subject: str) -> None:
    gateway = whole_schema
    token = await gateway.token(subject)
    for operation, variables in (
        (ISSUE, {"s": "alice", "scopes": None}),
        (LIST, {"s": None}),
        ('mutation { revokeToken(jti: "x") }', None),
        ('mutation { registerDocument(document: "{ me { id } }") }', None),
    ):
        payload = await gateway.gql(operation, variables, token=token)
        assert codes(payload) == ["FORBIDDEN"], (operation, payload)
        assert not any((payload["data"] or {}).values())  # its own field is null


async def test_anonymous_cannot_administer(whole_schema: Gateway) -> None:
    payload = await whole_schema.gql(LIST, {"s": None})
    assert codes(payload) == ["UNAUTHENTICATED"]


async def test_issue_token_narrows_only(gateway: Gateway) -> None:
    admin = await gateway.token("admin")
    payload = await gateway.gql(
        'mutation { issueToken(subject: "sf-express", purposes: ["MARKETING"]) { jti } }',
        token=admin,
    )
    assert codes(payload) == ["BAD_USER_INPUT"]


ISSUE_FOR = """mutation I($s: String!, $scopes: [String!], $purposes: [String!]) {
  issueToken(subject: $s, scopes: $scopes, purposes: $purposes) { jti }
}"""


@pytest.mark.parametrize(
    ("subject", "purpose"),
    [("alice", "SECURITY"), ("support1", "MARKETING"), ("sf-express", "DELIVERY")],
)
async def test_issue_token_refuses_unknown_scopes_and_undeclarable_purposes(
    gateway: Gateway, subject: str, purpose: str
) -> None:
    admin = await gateway.token("admin")
    for scope in ("Order.buyerPhnoe", "Ordr.*", "Invoice:*"):
        payload = await gateway.gql(ISSUE_FOR, {"s": subject, "scopes": [scope]}, token=admin)
        assert codes(payload) == ["BAD_USER_INPUT"], payload
        assert payload["errors"][0]["extensions"]["argument"] == "scopes"
        assert scope in payload["errors"][0]["message"]
    payload = await gateway.gql(ISSUE_FOR, {"s": subject, "purposes": [purpose]}, token=admin)
    if subject == "sf-express":  # its role may declare DELIVERY: narrowing to it is fine
        assert "errors" not in payload, payload
    else:
        assert codes(payload) == ["BAD_USER_INPUT"], payload
        assert payload["errors"][0]["extensions"]["argument"] == "purposes"
    accepted = await gateway.gql(
        ISSUE_FOR, {"s": subject, "scopes": ["Order.*", "User:*", "Order.orderNo"]}, token=admin
    )
    assert "errors" not in accepted, accepted


async def test_cli_registers_and_lists_documents(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", gateway.database_url)
    document = orders_document("PAYMENT", ("orderNo", "amountCents"))
    source = tmp_path / "payment.graphql"
    source.write_text(document, encoding="utf-8")

    def run(arguments: list[str]) -> Result:
        return CliRunner().invoke(cli, arguments)

    registered = await asyncio.to_thread(
        run, ["documents", "register", str(source), "--partner", "unionpay", "--name", "pay"]
    )
    assert registered.exit_code == 0, registered.output
    digest = hashlib.sha256(document.encode()).hexdigest()
    assert registered.stdout.strip() == digest
    listed = await asyncio.to_thread(run, ["documents", "list"])
    line = next(line for line in listed.stdout.splitlines() if line.startswith(digest))
    assert "unionpay" in line and "pay" in line
    unknown = await asyncio.to_thread(
        run, ["documents", "register", str(source), "--partner", "no-such-partner"]
    )
    assert unknown.exit_code != 0


REFUSED_DOCUMENTS = {
    "does not parse": "query { orders(first: 1) { edges { node { orderNo }",
    "is invalid": orders_document("PAYMENT", ("orderNo", "buyerPhnoe")),
    "is outside the view of partner unionpay": orders_document("PAYMENT", ("buyerPhone",)),
}


async def stored_documents(gateway: Gateway) -> int:
    async with gateway.services.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(persisted_documents))
    return int(count or 0)


@pytest.mark.parametrize("problem", sorted(REFUSED_DOCUMENTS))
async def test_register_document_refuses_what_a_partner_could_never_run(
    gateway: Gateway, problem: str
) -> None:
    admin = await gateway.token("admin")
    before = await stored_documents(gateway)
    payload = await gateway.gql(
        "mutation R($d: String!, $p: [String!]) { registerDocument(document: $d, partners: $p) }",
        {"d": REFUSED_DOCUMENTS[problem], "p": ["sf-express", "unionpay"]},
        token=admin,
    )
    assert codes(payload) == ["BAD_USER_INPUT"], payload
    assert payload["errors"][0]["message"].startswith(f"the document {problem}")
    assert payload["errors"][0]["extensions"]["argument"] == "document"
    assert await stored_documents(gateway) == before


async def test_register_document_checks_each_partner_named(gateway: Gateway) -> None:
    admin = await gateway.token("admin")
    phone = orders_document("DELIVERY", ("orderNo", "buyerPhone"))
    assert await offer(gateway, admin, phone, "sf-express")  # in the logistics partner's view
    assert not await offer(gateway, admin, phone, "sf-express", "unionpay")
    assert await offer(gateway, admin, "{ courses(first: 1) { totalCount } }")  # no partner


async def test_cli_refuses_a_document_outside_the_partners_view(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", gateway.database_url)
    source = tmp_path / "phones.graphql"
    source.write_text(orders_document("PAYMENT", ("buyerPhone",)), encoding="utf-8")
    before = await stored_documents(gateway)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["documents", "register", str(source), "--partner", "unionpay"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the document is outside the view of partner unionpay")
    assert await stored_documents(gateway) == before
