"""The data subject's say: consents per row, minors, cross-border, export, closing the account."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from fieldgate.audit.chain import load_audit_key
from fieldgate.audit.verify import verify_trail
from fieldgate.authz.consent import age_on
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.principal import ANONYMOUS
from fieldgate.models import Consent, Order, User
from fieldgate.models.tables import audit_events, audit_subjects
from tests.gateway import Gateway

consents = Consent.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
orders = Order.__table__  # type: ignore[attr-defined]


async def rows(gateway: Gateway, statement: Any) -> list[Any]:
    async with gateway.services.engine.connect() as conn:
        return list((await conn.execute(statement)).all())


def errors_by_reason(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["extensions"]["reason"]: e for e in payload.get("errors", [])}


async def test_cross_border_partner_needs_the_subjects_separate_consent(
    gateway: Gateway,
) -> None:
    payload = await gateway.gql(
        "query @purpose(name: DELIVERY) { orders(first: 100) "
        "{ edges { node { id orderNo buyerPhone deliveryAddress } } } }",
        as_="global-logistics",
    )
    nodes = [e["node"] for e in payload["data"]["orders"]["edges"]]
    assert nodes
    owners = dict(
        await rows(
            gateway,
            select(orders.c.id, orders.c.user_id).where(
                orders.c.id.in_([int(n["id"]) for n in nodes])
            ),
        )
    )
    consenting = {
        r.user_id
        for r in await rows(
            gateway,
            select(consents.c.user_id).where(
                consents.c.purpose == "CROSS_BORDER", consents.c.withdrawn_at.is_(None)
            ),
        )
    }
    for node in nodes:
        if owners[int(node["id"])] in consenting:
            assert node["orderNo"] is not None and node["buyerPhone"] is not None
        else:  # every PERSONAL or SENSITIVE value of the row is withheld
            assert node["orderNo"] is None
            assert node["buyerPhone"] is None and node["deliveryAddress"] is None
    withheld = [n for n in nodes if owners[int(n["id"])] not in consenting]
    if withheld:
        error = errors_by_reason(payload)["CROSS_BORDER_CONSENT_REQUIRED"]
        assert error["extensions"]["code"] == "FORBIDDEN_FIELD"
    # the same orders for a mainland partner are not gated
    mainland = await gateway.gql(
        "query @purpose(name: DELIVERY) { orders(first: 5) { edges { node { buyerPhone } } } }",
        as_="sf-express",
    )
    assert all(e["node"]["buyerPhone"] for e in mainland["data"]["orders"]["edges"])


async def minors(gateway: Gateway) -> list[Any]:
    today = datetime.now(UTC).date()
    found = await rows(
        gateway,
        select(users.c.id, users.c.birth_date, consents.c.guardian_consent)
        .join(consents, consents.c.user_id == users.c.id)
        .where(
            consents.c.purpose == "IDENTITY_VERIFICATION",
            consents.c.withdrawn_at.is_(None),
            users.c.id_number.is_not(None),
        ),
    )
    return [r for r in found if (age_on(r.birth_date, today) or 99) < 18]


async def test_minor_without_guardian_consent_has_no_consent_in_effect(
    gateway: Gateway,
) -> None:
    token = await gateway.token("verifier1")
    query = (
        "query($id: ID!) @purpose(name: IDENTITY_VERIFICATION) { user(id: $id) { id idNumber } }"
    )
    found = await minors(gateway)
    guarded = [r for r in found if r.guardian_consent]
    unguarded = [r for r in found if not r.guardian_consent]
    assert guarded or unguarded, "the demo data has minors with identity consent"
    for minor in guarded:
        payload = (await gateway.post(query, {"id": str(minor.id)}, token=token)).json()
        assert payload["data"]["user"]["idNumber"], payload
    for minor in unguarded:
        payload = (await gateway.post(query, {"id": str(minor.id)}, token=token)).json()
        assert payload["data"]["user"]["idNumber"] is None
        assert "GUARDIAN_CONSENT_REQUIRED" in errors_by_reason(payload)


async def test_withdrawn_identity_consent_takes_effect_on_the_next_request(
    gateway: Gateway,
) -> None:
    bob = await gateway.token("bob")
    verifier = await gateway.token("verifier1")
    me = (await gateway.gql("{ me { id } }", token=bob))["data"]["me"]["id"]
    query = "query($id: ID!) @purpose(name: IDENTITY_VERIFICATION) { user(id: $id) { idNumber } }"
    before = (await gateway.post(query, {"id": me}, token=verifier)).json()
    assert before["data"]["user"]["idNumber"]
    withdrawn = await gateway.gql(
        'mutation { withdrawConsent(purpose: "IDENTITY_VERIFICATION") { purpose active } }',
        token=bob,
    )
    assert {"purpose": "IDENTITY_VERIFICATION", "active": False} in withdrawn["data"][
        "withdrawConsent"
    ]
    after = (await gateway.post(query, {"id": me}, token=verifier)).json()
    assert after["data"]["user"]["idNumber"] is None
    assert "CONSENT_REQUIRED" in errors_by_reason(after)
    regranted = await gateway.gql(
        'mutation { grantConsent(purpose: "IDENTITY_VERIFICATION") { purpose active } }',
        token=bob,
    )
    assert {"purpose": "IDENTITY_VERIFICATION", "active": True} in regranted["data"]["grantConsent"]
    again = (await gateway.post(query, {"id": me}, token=verifier)).json()
    assert again["data"]["user"]["idNumber"] == before["data"]["user"]["idNumber"]


async def test_consent_mutations_refuse_bad_input_and_change_nothing(gateway: Gateway) -> None:
    alice = await gateway.token("alice")
    count = select(func.count()).select_from(consents)
    before = (await rows(gateway, count))[0][0]
    for mutation, code in [
        ('mutation { grantConsent(purpose: "ACCOUNT") { purpose } }', "BAD_USER_INPUT"),
        ('mutation { grantConsent(purpose: "MARKETING") { purpose } }', "CONFLICT"),
        (
            'mutation { grantConsent(purpose: "RESEARCH", guardianName: "张三") { purpose } }',
            "BAD_USER_INPUT",
        ),
        ('mutation { withdrawConsent(purpose: "LEGAL") { purpose } }', "BAD_USER_INPUT"),
    ]:
        payload = await gateway.gql(mutation, token=alice)
        assert payload["errors"][0]["extensions"]["code"] == code, (mutation, payload)
    assert (await rows(gateway, count))[0][0] == before
    anonymous = await gateway.gql('mutation { withdrawConsent(purpose: "MARKETING") { purpose } }')
    # anonymous callers are refused, or do not even see the mutation in their schema
    assert anonymous["errors"][0]["extensions"]["code"] in {
        "UNAUTHENTICATED",
        "GRAPHQL_VALIDATION_FAILED",
    }
    mine = await gateway.gql("{ myConsents { purpose active guardianConsent } }", token=alice)
    assert {c["purpose"] for c in mine["data"]["myConsents"]} >= {"MARKETING", "CROSS_BORDER"}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {str(value)} if value is not None else set()


EXPORT = 'mutation { exportMyData(password: "fieldgate-demo") }'
# what the owner's own queries mask, the export masks too
OWNER_MASKS = {
    ("users", "id_number"): MaskStrategy.ID_NUMBER,
    ("orders", "buyer_id_number"): MaskStrategy.ID_NUMBER,
    ("orders", "bank_card"): MaskStrategy.BANK_CARD,
}


async def test_export_holds_what_the_owner_may_read_masked_as_they_read_it(
    gateway: Gateway,
) -> None:
    alice = await gateway.token("alice")
    export = (await gateway.gql(EXPORT, token=alice))["data"]["exportMyData"]
    exported = _strings(export)
    text_of_export = json.dumps(export, ensure_ascii=False)
    me = int((await gateway.gql("{ me { id } }", token=alice))["data"]["me"]["id"])
    services = gateway.services
    decrypt = services.decrypt

    def plain(value: Any) -> str:
        if isinstance(value, str) and value.startswith("enc:v1:") and decrypt is not None:
            return str(decrypt(value))
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    personal = {
        "users": (
            "id",
            [
                "username",
                "nickname",
                "phone",
                "email",
                "real_name",
                "id_number",
                "birth_date",
                "gender",
                "job_title",
                "company",
                "education",
                "region",
            ],
        ),
        "orders": (
            "user_id",
            [
                "order_no",
                "buyer_name",
                "buyer_phone",
                "buyer_id_number",
                "bank_card",
                "delivery_address",
                "invoice_title",
                "remarks",
            ],
        ),
        "devices": ("user_id", ["model", "imei", "mac", "ip"]),
        "login_events": ("user_id", ["ip", "city"]),
        "support_tickets": ("user_id", ["subject", "contact_phone", "contact_email"]),
    }
    checked = masked = 0
    for table, (owner, columns) in personal.items():
        async with services.engine.connect() as conn:
            found = (
                await conn.execute(
                    text(f"SELECT {', '.join(columns)} FROM {table} WHERE {owner} = :me"),
                    {"me": me},
                )
            ).all()
        for row in found:
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                strategy = OWNER_MASKS.get((table, column))
                if strategy is None:
                    assert plain(value) in exported, f"{table}.{column} is missing"
                    checked += 1
                else:
                    owner_mask = services.pseudonyms.resolver(ANONYMOUS)(
                        strategy, f"{table}.{column}"
                    )
                    assert owner_mask(plain(value)) in exported, f"{table}.{column}"
                    assert plain(value) not in text_of_export, f"{table}.{column} left in full"
                    masked += 1
    assert checked > 20 and masked >= 3
    # the biometric template is never in the schema, so never in the export
    async with services.engine.connect() as conn:
        face = await conn.scalar(text("SELECT face_template FROM users WHERE id = :me"), {"me": me})
    assert face is not None
    assert "faceTemplate" not in text_of_export and "face_template" not in text_of_export
    opened = services.keyring.decrypt_bytes(face)
    assert opened.hex() not in text_of_export
    assert export["withheld"] == []
    # nothing of bob's
    bob_phone = (await gateway.gql("{ me { phone } }", as_="bob"))["data"]["me"]["phone"]
    assert bob_phone not in text_of_export


@pytest.mark.parametrize(
    "operation",
    [
        "mutation { exportMyData(password: $p) }",
        "mutation { closeMyAccount(password: $p) }",
        'mutation { changeMyPassword(current: $p, new: "another long one") }',
    ],
)
async def test_a_token_alone_does_not_export_close_or_change_the_password(
    gateway: Gateway, operation: str
) -> None:
    bob = await gateway.token("bob")
    change = "changeMyPassword" in operation
    declared = "String!" if change else "String"
    document = operation.replace("mutation {", f"mutation($p: {declared}) {{", 1)
    reasons = []
    for sent in ("" if change else None, "not the password"):
        payload = await gateway.gql(document, {"p": sent}, token=bob)
        assert not any((payload["data"] or {}).values())  # the mutation's own field is null
        error = payload["errors"][0]
        assert error["extensions"]["code"] == "REAUTHENTICATION_REQUIRED"
        reasons.append(error["extensions"]["reason"])
    assert reasons == ["password_required", "password_incorrect"]
    if not change:  # leaving the argument out is the same as sending none
        absent = await gateway.gql(operation.replace("(password: $p)", ""), token=bob)
        assert absent["errors"][0]["extensions"]["reason"] == "password_required"
    # nothing changed: bob still signs in with his password and reads his profile
    login = 'mutation { login(username: "bob", password: "fieldgate-demo") { token } }'
    assert (await gateway.gql(login))["data"]["login"]
    assert (await gateway.gql("{ me { username } }", token=bob))["data"]["me"]["username"] == "bob"


async def test_change_my_password_revokes_the_other_tokens(gateway: Gateway) -> None:
    name, first = "changing_user", "a long password"
    register = "mutation($i: RegisterInput!) { register(input: $i) }"
    token = (await gateway.gql(register, {"i": {"username": name, "password": first}}))["data"][
        "register"
    ]
    login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
    other = (await gateway.gql(login, {"u": name, "p": first}))["data"]["login"]["token"]
    change = "mutation($c: String!, $n: String!) { changeMyPassword(current: $c, new: $n) }"
    short = await gateway.gql(change, {"c": first, "n": "short"}, token=token)
    assert short["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    changed = await gateway.gql(change, {"c": first, "n": "a new long password"}, token=token)
    assert changed["data"] == {"changeMyPassword": True}
    assert (await gateway.post("{ me { id } }", token=token)).status_code == 200
    refused = await gateway.post("{ me { id } }", token=other)
    assert refused.status_code == 401
    assert (await gateway.gql(login, {"u": name, "p": first}))["errors"][0]["extensions"][
        "code"
    ] == "UNAUTHENTICATED"
    assert (await gateway.gql(login, {"u": name, "p": "a new long password"}))["data"]["login"]


async def test_close_my_account(gateway: Gateway) -> None:
    name = "leaving_user"
    token = (
        await gateway.gql(
            "mutation($i: RegisterInput!) { register(input: $i) }",
            {
                "i": {
                    "username": name,
                    "password": "a long password",
                    "phone": "13955550000",
                    "email": "leaving@163.com",
                }
            },
        )
    )["data"]["register"]
    placed = await gateway.gql(
        'mutation { placeOrder(input: {courseIds: ["1"], deliveryAddress: "北京市海淀区中关村大街99号"}) '
        "{ id amountCents } }",
        token=token,
    )
    order = placed["data"]["placeOrder"]
    await gateway.gql(
        'mutation { openTicket(input: {subject: "退款", body: "请退款 13955550000", '
        'contactEmail: "leaving@163.com"}) { id } }',
        token=token,
    )
    me = (await gateway.gql("query Before { me { id phone } }", token=token))["data"]["me"]
    leaving = int(me["id"])  # reading one's phone (SENSITIVE) puts an event on the trail
    finance = await gateway.token("finance1")
    totals = (
        "query @purpose(name: ORDER_FULFILLMENT) { orders(first: 100, after: null) { totalCount } }"
    )
    total_before = (await gateway.gql(totals, token=finance))["data"]["orders"]["totalCount"]
    amount_query = (
        "query($id: ID!) @purpose(name: ORDER_FULFILLMENT) { order(id: $id) { amountCents } }"
    )

    closed = await gateway.gql(
        'mutation { closeMyAccount(password: "a long password") }', token=token
    )
    assert closed["data"] == {"closeMyAccount": True}

    # the old token is refused
    refused = await gateway.post("{ me { id } }", token=token)
    assert refused.status_code == 401
    # no table holds the phone, name, e-mail or address in any form
    async with gateway.services.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all():
                flat = " ".join(str(v) for v in row)
                for secret in ("13955550000", "leaving@163.com", "中关村大街99号", name):
                    assert secret not in flat, f"{table} still holds personal data"
    # the order is kept, de-identified, and still counts
    kept = await gateway.gql(amount_query, {"id": order["id"]}, token=finance)
    assert kept["data"]["order"]["amountCents"] == order["amountCents"]
    assert (await gateway.gql(totals, token=finance))["data"]["orders"][
        "totalCount"
    ] == total_before
    # logging in again is impossible
    login = await gateway.gql(
        f'mutation {{ login(username: "{name}", password: "a long password") {{ token }} }}'
    )
    assert login["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # the audit trail is intact: the erasure left every event and link as it was, and is
    # itself on the trail (by user id, with no value)
    writer = gateway.services.audit
    assert writer is not None
    await asyncio.wait_for(writer.flush(), 10)
    key = load_audit_key(gateway.services.settings, create=False)
    verified = await verify_trail(gateway.services.engine, key)
    assert verified.ok, (verified.broken_at, verified.problem)
    about = await rows(
        gateway,
        select(audit_events.c.kind, audit_events.c.detail, audit_events.c.operation_name)
        .join(audit_subjects, audit_subjects.c.seq == audit_events.c.subjects_seq)
        .where(audit_subjects.c.user_id == leaving),
    )
    kinds = [(r.kind, r.operation_name) for r in about]
    assert ("disclosure", "Before") in kinds  # read before the erasure, kept
    erasures = [r.detail for r in about if r.kind == "rights_request"]
    assert erasures == ['{"fields":[],"request":"ERASURE"}']


async def test_do_not_track_records_no_tracking_data(gateway: Gateway) -> None:
    from fieldgate.models import LoginEvent

    events = LoginEvent.__table__  # type: ignore[attr-defined]
    alice = int((await gateway.gql("{ me { id } }", as_="alice"))["data"]["me"]["id"])
    count = select(func.count()).select_from(events).where(events.c.user_id == alice)
    login = 'mutation { login(username: "alice", password: "fieldgate-demo") { token expiresAt } }'
    before = (await rows(gateway, count))[0][0]
    for header in ({"dnt": "1"}, {"sec-gpc": "1"}):
        response = (await gateway.post(login, headers=header)).json()
        assert response["data"]["login"]
    assert (await rows(gateway, count))[0][0] == before
    assert (await gateway.post(login)).json()["data"]["login"]
    assert (await rows(gateway, count))[0][0] == before + 1


async def test_a_database_error_mid_way_changes_nothing(gateway: Gateway) -> None:
    from fieldgate.models import Device

    devices = Device.__table__  # type: ignore[attr-defined]
    bob = await gateway.token("bob")
    me = int((await gateway.gql("{ me { id } }", token=bob))["data"]["me"]["id"])
    owned = select(func.count()).select_from(devices).where(devices.c.user_id == me)
    before = (await rows(gateway, owned))[0][0]
    assert before > 0

    def fail_on_users_update(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE USERS"):
            raise RuntimeError("injected failure")

    from sqlalchemy import event

    engine = gateway.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", fail_on_users_update)
    try:
        payload = await gateway.gql(
            'mutation { closeMyAccount(password: "fieldgate-demo") }', token=bob
        )
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_users_update)
    assert payload["data"] == {"closeMyAccount": None}
    assert payload["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "injected" not in json.dumps(payload)  # no exception text reaches the client
    # the devices deleted before the failure are back: one transaction, rolled back
    assert (await rows(gateway, owned))[0][0] == before
    assert (await gateway.gql("{ me { username } }", token=bob))["data"]["me"]["username"] == "bob"


PROFILE = (
    "query Recommend @purpose(name: PERSONALISATION) { me { gender jobTitle company education } }"
)
PROFILE_FIELDS = {"User.gender", "User.jobTitle", "User.company", "User.education"}


async def active_consent(gateway: Gateway, token: str, purpose: str) -> None:
    """Make sure the caller's consent to ``purpose`` is active (granting it if needed)."""
    mine = await gateway.gql("{ myConsents { purpose active } }", token=token)
    if {"purpose": purpose, "active": True} not in mine["data"]["myConsents"]:
        granted = await gateway.gql(
            "mutation($p: String!) { grantConsent(purpose: $p) { purpose } }",
            {"p": purpose},
            token=token,
        )
        assert granted.get("errors") is None, granted


async def test_do_not_track_withholds_ones_own_profile_from_personalisation(
    gateway: Gateway,
) -> None:
    alice = await gateway.token("alice")
    await active_consent(gateway, alice, "PERSONALISATION")
    me = int((await gateway.gql("{ me { id } }", token=alice))["data"]["me"]["id"])
    stored = (
        await rows(
            gateway,
            select(users.c.gender, users.c.job_title, users.c.company, users.c.education).where(
                users.c.id == me
            ),
        )
    )[0]
    tracked = await gateway.gql(PROFILE, token=alice)
    assert tracked.get("errors") is None, tracked
    profile = tracked["data"]["me"]
    assert profile["gender"], "the named demo users have a gender"
    assert (
        profile["gender"],
        profile["jobTitle"],
        profile["company"],
        profile["education"],
    ) == tuple(stored)  # FULL: the stored values
    for header in ({"dnt": "1"}, {"sec-gpc": "1"}):
        withheld = await gateway.gql(PROFILE, token=alice, headers=header)
        assert withheld["data"]["me"] == dict.fromkeys(profile), header
        reasons = {e["extensions"]["field"]: e["extensions"]["reason"] for e in withheld["errors"]}
        assert reasons == dict.fromkeys(PROFILE_FIELDS, "DO_NOT_TRACK"), header
        assert withheld["extensions"]["disclosure"]["denied"] == sorted(PROFILE_FIELDS)
    # DNT: 0 is no signal
    assert (await gateway.gql(PROFILE, token=alice, headers={"dnt": "0"}))["data"] == {
        "me": profile
    }

    # another principal's request is unaffected: bob's, and a partner's that sends DNT itself
    # (it keeps the partner's own data out, not alice's)
    bob = await gateway.token("bob")
    await active_consent(gateway, bob, "PERSONALISATION")
    bobs = await gateway.gql(PROFILE, token=bob)
    assert bobs.get("errors") is None and bobs["data"]["me"]["gender"], bobs
    analytics = await gateway.gql(
        "query @purpose(name: ANALYTICS) { users(first: 100) { edges { node { id gender } } } }",
        as_="insight-1",
        headers={"dnt": "1"},
    )
    pseudonym = gateway.services.pseudonyms.pseudonym_of("partner:insight-1", "User", me)
    genders = {e["node"]["id"]: e["node"]["gender"] for e in analytics["data"]["users"]["edges"]}
    # alice's gender reaches analytics unless her group is too small (K_ANONYMITY)
    reasons = {e["extensions"]["reason"] for e in analytics.get("errors", [])}
    assert genders[pseudonym] == profile["gender"] or "K_ANONYMITY" in reasons
    assert "DO_NOT_TRACK" not in reasons


async def consent_state(gateway: Gateway, user_id: int) -> tuple[list[Any], int]:
    """The user's consent rows, every column, and how many consent changes the trail holds."""
    writer = gateway.services.audit
    assert writer is not None
    await asyncio.wait_for(writer.flush(), 10)
    held = await rows(
        gateway, select(consents).where(consents.c.user_id == user_id).order_by(consents.c.id)
    )
    changes = await rows(
        gateway,
        select(func.count())
        .select_from(
            audit_events.join(audit_subjects, audit_subjects.c.seq == audit_events.c.subjects_seq)
        )
        .where(audit_events.c.kind == "consent_change", audit_subjects.c.user_id == user_id),
    )
    return held, changes[0][0]


async def test_consent_conflicts_are_coded_and_change_nothing(gateway: Gateway) -> None:
    name = f"conflicted_{secrets.token_hex(4)}"
    token = (
        await gateway.gql(
            "mutation($i: RegisterInput!) { register(input: $i) }",
            {"i": {"username": name, "password": "a long password"}},
        )
    )["data"]["register"]
    me = int((await gateway.gql("{ me { id } }", token=token))["data"]["me"]["id"])
    grant = 'mutation { grantConsent(purpose: "RESEARCH") { purpose active } }'
    withdraw = 'mutation { withdrawConsent(purpose: "RESEARCH") { purpose active } }'
    assert (await gateway.gql(grant, token=token)).get("errors") is None
    granted = await consent_state(gateway, me)
    assert len(granted[0]) == 1 and granted[1] == 1

    again = await gateway.gql(grant, token=token)  # granting twice
    assert again["data"] == {"grantConsent": None}
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    never = await gateway.gql(  # withdrawing a consent never given
        'mutation { withdrawConsent(purpose: "MARKETING") { purpose } }', token=token
    )
    assert never["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await consent_state(gateway, me) == granted

    assert (await gateway.gql(withdraw, token=token)).get("errors") is None
    withdrawn = await consent_state(gateway, me)
    assert withdrawn[1] == 2 and withdrawn[0][0].withdrawn_at is not None
    twice = await gateway.gql(withdraw, token=token)  # withdrawing one no longer active
    assert twice["data"] == {"withdrawConsent": None}
    assert twice["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await consent_state(gateway, me) == withdrawn

    # four grants at once: one is recorded, the others are conflicts
    racing = 'mutation { grantConsent(purpose: "PERSONALISATION") { purpose } }'
    answers = await asyncio.gather(*(gateway.gql(racing, token=token) for _ in range(4)))
    codes = sorted(a["errors"][0]["extensions"]["code"] if "errors" in a else "OK" for a in answers)
    assert codes == ["CONFLICT", "CONFLICT", "CONFLICT", "OK"]
    held, changes = await consent_state(gateway, me)
    assert [r.purpose for r in held if r.withdrawn_at is None] == ["PERSONALISATION"]
    assert changes == 3
