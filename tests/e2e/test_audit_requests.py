"""The audit trail over HTTP: what each request records (and never records), fail closed,
reading the trail as the DPO and a user's own access log, on both databases."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from fieldgate.app import create_app
from fieldgate.audit.events import (
    Actor,
    AuditEvent,
    AuditKind,
    ConsentChange,
    RightsRequest,
    consent_change_event,
    rights_request_event,
)
from fieldgate.crypto.keyring import Keyring
from fieldgate.identity.issuance import issue_for_subject, revoke
from fieldgate.models import Order, Staff, User
from fieldgate.models.tables import audit_events
from fieldgate.resolvers.context import Services
from fieldgate.settings import Settings
from tests.fakes import InMemoryAuditSink
from tests.gateway import Gateway, recorded_statements

users = User.__table__  # type: ignore[attr-defined]
orders = Order.__table__  # type: ignore[attr-defined]
staff = Staff.__table__  # type: ignore[attr-defined]

ALICE_PHONE = "query MyPhone { me { phone } }"
VERIFIER_ID_NUMBERS = """query Verify @purpose(name: IDENTITY_VERIFICATION) {
  users(first: 20) { edges { node { id idNumber } } }
}"""
AGENT_ID_NUMBERS = """query AgentLookup @purpose(name: CUSTOMER_SUPPORT) {
  users(first: 20) { edges { node { id username idNumber } } }
}"""
COURSES = "{ courses(first: 3) { edges { node { title priceCents } } } }"
TRAIL_FIELDS = (
    "at kind principalKind principalRoles partnerId purpose operationName coordinate"
    " outcome reason subjects policyVersion requestId"
)


def new_request_id() -> str:
    return f"t-{secrets.token_hex(8)}"


def opened(keyring: Keyring | None, value: Any) -> Any:
    if keyring is not None and Keyring.is_encrypted(value):
        return keyring.decrypt(value)
    return value


async def account_id(gateway: Gateway, table: Any, name_column: str, name: str) -> int:
    async with gateway.services.engine.connect() as connection:
        found = await connection.execute(select(table.c.id).where(table.c[name_column] == name))
        return int(found.scalar_one())


async def secrets_of(gateway: Gateway, username: str) -> list[str]:
    """Every stored personal value of a user and their orders, opened (long enough to search)."""
    keyring = gateway.services.keyring
    async with gateway.services.engine.connect() as connection:
        user = (await connection.execute(select(users).where(users.c.username == username))).one()
        bought = (await connection.execute(select(orders).where(orders.c.user_id == user.id))).all()
    values = [
        user.phone,
        opened(keyring, user.id_number),
        user.email,
        user.real_name,
        *(opened(keyring, o.bank_card) for o in bought),
        *(opened(keyring, o.buyer_id_number) for o in bought),
        *(o.buyer_phone for o in bought),
        *(o.delivery_address for o in bought),
    ]
    found = [str(v) for v in values if v is not None and len(str(v)) >= 6]
    assert found, "the demo user has personal values"
    return found


async def stored_events(gateway: Gateway, **where: Any) -> list[dict[str, Any]]:
    """The stored events matching ``where`` (column = value), after a flush of the writer."""
    writer = gateway.services.audit
    assert writer is not None
    await asyncio.wait_for(writer.flush(), 10)
    statement = select(audit_events).order_by(audit_events.c.seq)
    for column, value in where.items():
        statement = statement.where(audit_events.c[column] == value)
    async with gateway.services.engine.connect() as connection:
        return [dict(row) for row in (await connection.execute(statement)).mappings()]


def assert_no_value(events: Sequence[dict[str, Any]], values: Sequence[str]) -> None:
    """No stored column of any event contains any of ``values``."""
    for row in events:
        for column, stored in row.items():
            for value in values:
                assert value not in str(stored), f"a value was stored in {column}"


def assert_gets_nothing(payload: dict[str, Any], root: str) -> None:
    """No row at all: an empty connection, or a field outside the caller's view of the
    schema (refused by validation, before anything runs)."""
    if payload["data"] is None:
        codes = {e["extensions"]["code"] for e in payload["errors"]}
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}, payload
    else:
        assert payload["data"][root] == {"totalCount": 0, "edges": []}


async def test_request_ids_are_echoed_or_made(gateway: Gateway) -> None:
    given = await gateway.post(COURSES, headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await gateway.post(COURSES, headers={"x-request-id": "not a token!"})
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != "abc-123"


async def test_a_full_sensitive_disclosure_is_one_event_naming_no_value(gateway: Gateway) -> None:
    alice = await account_id(gateway, users, "username", "alice")
    token = await gateway.token("alice")
    rid = new_request_id()
    response = await gateway.post(
        "query Mine { me { phone email idNumber } }", token=token, headers={"x-request-id": rid}
    )
    assert response.json()["data"]["me"]["phone"]
    [event] = await stored_events(gateway, request_id=rid)
    assert event["kind"] == "disclosure" and event["outcome"] == "FULL"
    assert event["coordinate"] == "User.phone"  # idNumber is masked, email is not SENSITIVE
    assert (event["principal_kind"], event["principal_id"], event["principal_roles"]) == (
        "user",
        alice,
        "user",
    )
    assert event["partner_id"] is None
    assert (event["subjects"], event["subject_count"]) == (str(alice), 1)
    assert event["purpose"] == "RIGHTS" and event["operation_name"] == "Mine"
    assert (
        event["document_hash"]
        == hashlib.sha256(b"query Mine { me { phone email idNumber } }").hexdigest()
    )
    assert event["policy_version"] == gateway.services.policy.version
    assert event["reason"] is None
    claims = jwt.decode(token, options={"verify_signature": False})
    assert event["detail"] == f'{{"jti":"{claims["jti"]}"}}'
    assert_no_value([event], await secrets_of(gateway, "alice"))


async def test_the_trail_writes_through_a_pool_of_its_own(gateway: Gateway) -> None:
    rid = new_request_id()
    with recorded_statements(gateway) as statements:
        token = await gateway.token("alice")
        await gateway.post(ALICE_PHONE, token=token, headers={"x-request-id": rid})
        writer = gateway.services.audit
        assert writer is not None
        await asyncio.wait_for(writer.flush(), 10)
    assert statements and not [s for s in statements if "audit_" in s]
    assert len(await stored_events(gateway, request_id=rid)) == 1


async def test_a_denial_is_one_event_with_all_twenty_subjects(gateway: Gateway) -> None:
    rid = new_request_id()
    token = await gateway.token("support1")
    payload = (
        await gateway.post(AGENT_ID_NUMBERS, token=token, headers={"x-request-id": rid})
    ).json()
    listed = {int(edge["node"]["id"]) for edge in payload["data"]["users"]["edges"]}
    assert len(listed) == 20
    [error] = payload["errors"]
    # (the usernames of children among the twenty are FULL disclosures, audited too)
    [event] = [e for e in await stored_events(gateway, request_id=rid) if e["kind"] == "denial"]
    assert (event["kind"], event["outcome"], event["coordinate"]) == (
        "denial",
        "DENIED",
        "User.idNumber",
    )
    assert event["reason"] == error["extensions"]["reason"]
    assert {int(s) for s in event["subjects"].split()} == listed
    assert event["subject_count"] == 20
    assert (event["principal_kind"], event["principal_roles"]) == ("staff", "support_agent")
    assert event["purpose"] == "CUSTOMER_SUPPORT"


async def test_id_numbers_read_in_full_are_recorded_subject_by_subject(gateway: Gateway) -> None:
    rid = new_request_id()
    token = await gateway.token("verifier1")
    payload = (
        await gateway.post(VERIFIER_ID_NUMBERS, token=token, headers={"x-request-id": rid})
    ).json()
    nodes = [edge["node"] for edge in payload["data"]["users"]["edges"]]
    shown = {int(n["id"]) for n in nodes if n["idNumber"] is not None}
    withheld = {int(n["id"]) for n in nodes if n["idNumber"] is None}
    assert shown, "some data subjects consented to identity verification"
    events = await stored_events(gateway, request_id=rid)
    by_kind = {e["kind"]: e for e in events}
    assert {int(s) for s in by_kind["disclosure"]["subjects"].split()} == shown
    if withheld:
        assert {int(s) for s in by_kind["denial"]["subjects"].split()} == withheld
    assert len(events) == (2 if withheld else 1)
    assert_no_value(events, [n["idNumber"] for n in nodes if n["idNumber"]])


async def test_tokens_issued_and_revoked_are_recorded(gateway: Gateway) -> None:
    services = gateway.services
    alice = await account_id(gateway, users, "username", "alice")
    token = await issue_for_subject(
        services.engine,
        services.tokens,
        "alice",
        purposes=["RIGHTS"],
        ttl=timedelta(minutes=5),
        audit=services.audit,
    )
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert await revoke(services.engine, jti, audit=services.audit)
    assert await revoke(services.engine, jti, audit=services.audit)  # twice: recorded once
    events = [e for e in await stored_events(gateway, principal_id=alice) if jti in e["detail"]]
    assert [(e["kind"], e["outcome"]) for e in events] == [
        ("token_issued", "ISSUED"),
        ("token_revoked", "REVOKED"),
    ]
    issued, revoked = events
    assert issued["principal_kind"] == "user" and issued["principal_roles"] == "user"
    assert '"purposes":["RIGHTS"]' in issued["detail"] and '"via":"issue"' in issued["detail"]
    assert revoked["detail"] == f'{{"jti":"{jti}"}}'
    assert_no_value(events, [token, *(await secrets_of(gateway, "alice"))])


async def test_consent_and_rights_events_name_the_subject_and_no_value(gateway: Gateway) -> None:
    alice = await account_id(gateway, users, "username", "alice")
    rid = new_request_id()
    actor = Actor.account("user", alice, ["user"])
    writer = gateway.services.audit
    assert writer is not None
    assert writer.submit(
        [
            consent_change_event(actor, alice, "MARKETING", ConsentChange.GRANTED, request_id=rid),
            rights_request_event(
                actor, alice, RightsRequest.CORRECTION, request_id=rid, fields=["User.phone"]
            ),
        ]
    )
    events = await stored_events(gateway, request_id=rid)
    assert [(e["kind"], e["outcome"], e["subjects"]) for e in events] == [
        ("consent_change", "GRANTED", str(alice)),
        ("rights_request", "DONE", str(alice)),
    ]
    assert events[1]["detail"] == '{"fields":["User.phone"],"request":"CORRECTION"}'
    assert_no_value(events, await secrets_of(gateway, "alice"))


# -- reading the trail ------------------------------------------------------------------


async def test_the_dpo_reads_the_trail_under_compliance(gateway: Gateway) -> None:
    alice = await account_id(gateway, users, "username", "alice")
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    rid = new_request_id()
    await gateway.post(
        ALICE_PHONE, token=await gateway.token("alice"), headers={"x-request-id": rid}
    )
    await stored_events(gateway, request_id=rid)  # flushed
    query = f"""query Trail($subject: ID!, $since: DateTime!) @purpose(name: COMPLIANCE) {{
      auditEvents(first: 100, kind: DISCLOSURE, coordinate: "User.phone", subjectId: $subject,
                  since: $since) {{ totalCount edges {{ node {{ {TRAIL_FIELDS} }} }} }}
    }}"""
    payload = await gateway.gql(query, {"subject": str(alice), "since": since}, as_="dpo")
    assert "errors" not in payload, payload
    nodes = [e["node"] for e in payload["data"]["auditEvents"]["edges"]]
    [mine] = [n for n in nodes if n["requestId"] == rid]
    assert mine == {
        "at": mine["at"],
        "kind": "DISCLOSURE",
        "principalKind": "user",
        "principalRoles": ["user"],
        "partnerId": None,
        "purpose": "RIGHTS",
        "operationName": "MyPhone",
        "coordinate": "User.phone",
        "outcome": "FULL",
        "reason": None,
        "subjects": [str(alice)],
        "policyVersion": gateway.services.policy.version,
        "requestId": rid,
    }
    assert all(n["kind"] == "DISCLOSURE" and str(alice) in n["subjects"] for n in nodes)
    assert payload["data"]["auditEvents"]["totalCount"] >= len(nodes) >= 1
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = await gateway.gql(query, {"subject": str(alice), "since": later}, as_="dpo")
    assert none["data"]["auditEvents"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("account", "purpose"),
    [
        ("support1", "CUSTOMER_SUPPORT"),
        ("admin", "SECURITY"),
        ("alice", None),
        ("insight-1", "ANALYTICS"),
        (None, None),
    ],
)
async def test_no_one_else_reads_the_trail(
    gateway: Gateway, account: str | None, purpose: str | None
) -> None:
    directive = f" @purpose(name: {purpose})" if purpose else ""
    query = f"query Peek{directive} {{ auditEvents(first: 50) {{ totalCount edges {{ node {{ {TRAIL_FIELDS} }} }} }} }}"
    token = await gateway.token(account) if account else None
    payload = (await gateway.post(query, token=token)).json()
    assert_gets_nothing(payload, "auditEvents")


async def test_the_dpo_without_compliance_sees_no_field(gateway: Gateway) -> None:
    query = f"query Legal @purpose(name: LEGAL) {{ auditEvents(first: 3) {{ edges {{ node {{ {TRAIL_FIELDS} }} }} }} }}"
    payload = await gateway.gql(query, as_="dpo")
    nodes = [e["node"] for e in payload["data"]["auditEvents"]["edges"]]
    assert nodes and all(value is None for node in nodes for value in node.values())
    assert {e["extensions"]["code"] for e in payload["errors"]} == {"FORBIDDEN_FIELD"}


async def access_log(gateway: Gateway, token: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        payload = await gateway.gql(
            """query Log($after: String) { myAccessLog(first: 100, after: $after) {
                 pageInfo { hasNextPage endCursor }
                 edges { node { at kind principalKind principalRoles partnerId purpose
                                coordinate outcome } } } }""",
            {"after": after},
            token=token,
        )
        assert "errors" not in payload, payload
        log = payload["data"]["myAccessLog"]
        entries += [edge["node"] for edge in log["edges"]]
        if not log["pageInfo"]["hasNextPage"]:
            return entries
        after = log["pageInfo"]["endCursor"]


async def test_a_user_sees_who_accessed_their_data_by_role_only(gateway: Gateway) -> None:
    alice = await account_id(gateway, users, "username", "alice")
    agent = await gateway.token("support1")
    looked_up = await gateway.gql(
        """query Lookup($id: ID!) @purpose(name: CUSTOMER_SUPPORT) {
             user(id: $id) { username phone idNumber } }""",
        {"id": str(alice)},
        token=agent,
    )
    assert looked_up["data"]["user"]["username"] == "alice"
    denials = await stored_events(gateway, coordinate="User.idNumber", subjects=str(alice))
    assert denials and denials[-1]["kind"] == "denial"
    assert_no_value(denials[-1:], await secrets_of(gateway, "alice"))
    token = await gateway.token("alice")
    await gateway.post(ALICE_PHONE, token=token)  # her own read is not in her access log
    await stored_events(gateway, kind="denial")  # flushed
    entries = await access_log(gateway, token)
    assert {
        "kind": "DENIAL",
        "principalKind": "staff",
        "principalRoles": ["support_agent"],
        "partnerId": None,
        "purpose": "CUSTOMER_SUPPORT",
        "coordinate": "User.idNumber",
        "outcome": "DENIED",
    } in [{k: v for k, v in e.items() if k != "at"} for e in entries]
    # her masked phone and her username in full, read by the agent, are there too
    seen = {
        (e["kind"], e["coordinate"], e["outcome"]) for e in entries if e["principalKind"] == "staff"
    }
    assert {("READ", "User.phone", "MASKED"), ("READ", "User.username", "FULL")} <= seen
    assert all(e["principalKind"] != "user" for e in entries)
    async with gateway.services.engine.connect() as connection:
        agent_row = (
            await connection.execute(select(staff).where(staff.c.username == "support1"))
        ).one()
    body = str(entries)
    assert "support1" not in body and agent_row.display_name not in body
    refused = await gateway.gql("{ myAccessLog { edges { node { principalId } } } }", token=token)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_reads_by_others_are_read_events_and_ones_own_are_not(gateway: Gateway) -> None:
    bob = await account_id(gateway, users, "username", "bob")
    rid = f"reads-{bob}"
    own = await gateway.post(
        "{ me { username phone idNumber } }",
        token=await gateway.token("bob"),
        headers={"x-request-id": f"{rid}-own"},
    )
    assert "errors" not in own.json()
    assert await stored_events(gateway, request_id=f"{rid}-own", kind="read") == []
    agent = await gateway.post(
        "query @purpose(name: CUSTOMER_SUPPORT) { orders(first: 20) { edges { node"
        " { orderNo buyerName buyerPhone } } } }",
        token=await gateway.token("support1"),
        headers={"x-request-id": f"{rid}-agent"},
    )
    assert "errors" not in agent.json()
    reads = await stored_events(gateway, request_id=f"{rid}-agent", kind="read")
    outcomes = {(e["coordinate"], e["outcome"]): e for e in reads}
    # one event per field and outcome, naming every subject of the page, no value
    assert ("Order.buyerPhone", "MASKED") in outcomes and ("Order.orderNo", "FULL") in outcomes
    assert len(reads) == len(outcomes)
    page = await stored_events(gateway, request_id=f"{rid}-agent")
    assert not [e for e in page if e["kind"] == "denial"]  # every field selected is granted
    assert outcomes[("Order.orderNo", "FULL")]["subject_count"] >= 2
    assert_no_value(reads, await secrets_of(gateway, "alice"))


async def test_only_the_data_subject_reads_their_access_log(gateway: Gateway) -> None:
    for account in ("support1", "dpo", "sf-express"):
        payload = await gateway.gql(
            "{ myAccessLog { totalCount edges { node { at } } } }", as_=account
        )
        assert_gets_nothing(payload, "myAccessLog")


# -- fail closed ---------------------------------------------------------------------------


class FailingSink:
    async def append(self, events: Sequence[AuditEvent]) -> None:
        raise ConnectionError("the audit database is down")


class BlockedSink(InMemoryAuditSink):
    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def append(self, events: Sequence[AuditEvent]) -> None:
        self.entered.set()
        await self.release.wait()
        await super().append(events)


@pytest.fixture
async def side_app(gateway: Gateway, key_dir: Path) -> AsyncIterator[Any]:
    """Another app on the gateway's database (same keys), with an audit sink of the test's."""
    made: list[tuple[httpx.AsyncClient, Services]] = []

    def make(sink: Any, **settings: Any) -> tuple[httpx.AsyncClient, Services]:
        app = create_app(
            Settings(
                database_url=gateway.database_url,
                key_dir=key_dir,
                staff_full_schema=True,
                **settings,
            ),
            audit_sink=sink,
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        made.append((client, app.state.services))
        return made[-1]

    yield make
    for client, services in made:
        await client.aclose()
        assert services.audit is not None
        services.audit.shutdown_grace = 0.1
        await services.audit.close()
        await services.engine.dispose()


async def post(client: httpx.AsyncClient, query: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def a_denial() -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC), kind=AuditKind.DENIAL, principal_kind="staff", outcome="DENIED"
    )


async def wait_until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_failing_trail_withholds_sensitive_values(gateway: Gateway, side_app: Any) -> None:
    client, services = side_app(FailingSink())
    writer = services.audit
    writer.submit([a_denial()])
    await wait_until(lambda: not writer.healthy)  # the sink has failed once

    alice_phone = (await secrets_of(gateway, "alice"))[0]
    refused = await post(client, ALICE_PHONE, await gateway.token("alice"))
    assert refused.status_code == 503  # SERVICE_UNAVAILABLE always comes with 503
    assert refused.json()["data"] is None
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert alice_phone not in refused.text

    verifier = await gateway.token("verifier1")
    id_numbers = (await gateway.gql(VERIFIER_ID_NUMBERS, token=verifier))["data"]["users"]["edges"]
    shown = [e["node"]["idNumber"] for e in id_numbers if e["node"]["idNumber"]]
    assert shown
    refused = await post(client, VERIFIER_ID_NUMBERS, verifier)
    assert refused.json()["data"] is None
    assert all(number not in refused.text for number in shown)

    public = await post(client, COURSES, None)
    assert len(public.json()["data"]["courses"]["edges"]) == 3
    # denials alone still answer (their events are kept for when the trail is back); a
    # username would be a FULL disclosure of a child's data for the children among them
    agent_ids = AGENT_ID_NUMBERS.replace("id username idNumber", "id idNumber")
    denied = await post(client, agent_ids, await gateway.token("support1"))
    assert len(denied.json()["data"]["users"]["edges"]) == 20
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN_FIELD"


async def test_a_full_queue_withholds_sensitive_values_until_it_drains(
    gateway: Gateway, side_app: Any
) -> None:
    sink = BlockedSink()
    client, services = side_app(sink, audit_queue_size=2)
    writer = services.audit
    assert writer.submit([a_denial()])
    await asyncio.wait_for(sink.entered.wait(), 5)  # the task holds it, waiting on the sink
    assert writer.submit([a_denial(), a_denial()])
    assert not writer.healthy
    token = await gateway.token("alice")
    refused = await post(client, ALICE_PHONE, token)
    assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    sink.release.set()
    await asyncio.wait_for(writer.flush(), 5)
    served = await post(client, ALICE_PHONE, token)
    assert served.json()["data"]["me"]["phone"]
    await asyncio.wait_for(writer.flush(), 5)
    assert [e.coordinate for e in sink.events if e.kind is AuditKind.DISCLOSURE] == ["User.phone"]


async def test_auditing_can_be_switched_off_for_measurements(
    gateway: Gateway, side_app: Any
) -> None:
    client, services = side_app(FailingSink())
    services.audit_enabled = False
    services.audit.submit([a_denial()])
    await wait_until(lambda: not services.audit.healthy)
    served = await post(client, ALICE_PHONE, await gateway.token("alice"))
    assert served.json()["data"]["me"]["phone"]
