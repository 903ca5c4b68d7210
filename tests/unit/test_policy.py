"""The casbin policy port and the packaged default policy."""

from __future__ import annotations

import csv
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldgate.authz.policy import ConditionalGrant, Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.policy_rules import Grant, RowCondition, RowScope
from fieldgate.authz.purposes import PurposeVocabulary, load_purposes
from fieldgate.errors import PolicyError
from fieldgate.settings import PACKAGED_POLICY_DIR

MATRIX = Path(__file__).parents[1] / "matrix" / "expectations.csv"

ANY, OWNER, ASSIGNED = RowCondition.ANY, RowCondition.OWNER, RowCondition.ASSIGNED
FULL, MASKED = Grant.FULL, Grant.MASKED
DEFAULT_ROLES = {
    "anonymous",
    "user",
    "support_agent",
    "finance",
    "security_analyst",
    "verification_officer",
    "dpo",
    "admin",
    "logistics",
    "payment",
    "merchant",
    "analytics",
    "marketing",
}


@pytest.fixture(scope="module")
def vocabulary() -> PurposeVocabulary:
    return load_purposes(PACKAGED_POLICY_DIR)


@pytest.fixture(scope="module")
def packaged(vocabulary: PurposeVocabulary) -> Policy:
    """The packaged policy, shared by the tests that only read it."""
    return load_policy(PACKAGED_POLICY_DIR, vocabulary)


@pytest.fixture
def fresh(vocabulary: PurposeVocabulary) -> Policy:
    """A policy of its own, for tests that count casbin calls."""
    return load_policy(PACKAGED_POLICY_DIR, vocabulary)


PolicyCopy = Callable[[str], Path]


@pytest.fixture
def policy_copy(tmp_path: Path) -> PolicyCopy:
    """Copy the packaged policy folder and append ``extra`` to its policy.csv."""

    def make(extra: str = "") -> Path:
        folder = tmp_path / "policy"
        shutil.copytree(PACKAGED_POLICY_DIR, folder, dirs_exist_ok=True)
        if extra:
            with (folder / "policy.csv").open("a", encoding="utf-8") as rules:
                rules.write(extra)
        return folder

    return make


def grants_of(found: tuple[ConditionalGrant, ...]) -> dict[RowCondition, Grant]:
    return {g.condition: g.grant for g in found}


# --- field grants of each default role ------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "coordinate", "purpose", "expected"),
    [
        # user: own rows in full, ID documents and the bank card masked (explicit denies win)
        ("user", "User.phone", "RIGHTS", {OWNER: FULL}),
        ("user", "Order.deliveryAddress", "RIGHTS", {OWNER: FULL}),
        ("user", "User.idNumber", "RIGHTS", {OWNER: MASKED}),
        ("user", "Order.buyerIdNumber", "RIGHTS", {OWNER: MASKED}),
        ("user", "Order.bankCard", "RIGHTS", {OWNER: MASKED}),
        ("user", "User.nickname", "ACCOUNT", {OWNER: FULL}),
        ("user", "Enrollment.progress", "LEARNING", {OWNER: FULL}),
        ("user", "Order.orderNo", "ACCOUNT", {}),
        ("user", "User.phone", None, {}),
        ("user", "Order.id", None, {ANY: FULL}),
        # support_agent: contact masked, in full on assigned tickets; never ID or bank card
        (
            "support_agent",
            "SupportTicket.contactPhone",
            "CUSTOMER_SUPPORT",
            {ANY: MASKED, ASSIGNED: FULL},
        ),
        (
            "support_agent",
            "SupportTicket.contactEmail",
            "CUSTOMER_SUPPORT",
            {ANY: MASKED, ASSIGNED: FULL},
        ),
        ("support_agent", "SupportTicket.subject", "CUSTOMER_SUPPORT", {ANY: FULL}),
        ("support_agent", "TicketMessage.body", "CUSTOMER_SUPPORT", {ANY: FULL}),
        ("support_agent", "User.phone", "CUSTOMER_SUPPORT", {ANY: MASKED}),
        ("support_agent", "Order.buyerPhone", "CUSTOMER_SUPPORT", {ANY: MASKED}),
        ("support_agent", "Order.orderNo", "CUSTOMER_SUPPORT", {ANY: FULL}),
        ("support_agent", "User.idNumber", "CUSTOMER_SUPPORT", {}),
        ("support_agent", "Order.buyerIdNumber", "IDENTITY_VERIFICATION", {}),
        ("support_agent", "Order.bankCard", "PAYMENT", {}),
        ("support_agent", "User.phone", None, {}),
        ("support_agent", "SupportTicket.id", None, {ANY: FULL}),
        # finance: a grant under ORDER_FULFILLMENT covers PAYMENT; PAYMENT's does not cover OF
        ("finance", "Order.orderNo", "ORDER_FULFILLMENT", {ANY: FULL}),
        ("finance", "Order.orderNo", "PAYMENT", {ANY: FULL}),
        ("finance", "Order.buyerName", "DELIVERY", {ANY: MASKED}),
        ("finance", "Order.bankCard", "PAYMENT", {ANY: MASKED}),
        ("finance", "Order.bankCard", "ORDER_FULFILLMENT", {}),
        ("finance", "Order.invoiceTitle", "INVOICING", {ANY: FULL}),
        ("finance", "Order.invoiceTitle", "ORDER_FULFILLMENT", {}),
        ("finance", "Order.orderNo", "CUSTOMER_SUPPORT", {}),
        # security_analyst: devices and login events in full, the rest masked
        ("security_analyst", "Device.imei", "SECURITY", {ANY: FULL}),
        ("security_analyst", "LoginEvent.ip", "SECURITY", {ANY: FULL}),
        ("security_analyst", "User.devices", "SECURITY", {ANY: FULL}),
        ("security_analyst", "User.phone", "SECURITY", {ANY: MASKED}),
        ("security_analyst", "Device.imei", "ACCOUNT", {}),
        # verification_officer
        ("verification_officer", "User.idNumber", "IDENTITY_VERIFICATION", {ANY: FULL}),
        ("verification_officer", "Order.buyerIdNumber", "IDENTITY_VERIFICATION", {ANY: FULL}),
        ("verification_officer", "User.realName", "IDENTITY_VERIFICATION", {ANY: FULL}),
        ("verification_officer", "User.phone", "IDENTITY_VERIFICATION", {ANY: MASKED}),
        # dpo and admin: personal values masked
        ("dpo", "User.email", "COMPLIANCE", {ANY: MASKED}),
        ("dpo", "User.email", "LEGAL", {}),
        ("admin", "User.phone", "ACCOUNT", {ANY: MASKED}),
        ("admin", "User.phone", "SECURITY", {ANY: MASKED}),
        ("admin", "Order.orderNo", "ACCOUNT", {}),
        # partners
        ("logistics", "Order.deliveryAddress", "DELIVERY", {ANY: FULL}),
        ("logistics", "Order.buyerPhone", "DELIVERY", {ANY: FULL}),
        ("logistics", "Order.amountCents", "DELIVERY", {}),
        ("logistics", "Order.deliveryAddress", "PAYMENT", {}),
        ("payment", "Order.amountCents", "PAYMENT", {ANY: FULL}),
        ("payment", "Order.orderNo", "PAYMENT", {ANY: FULL}),
        ("payment", "Order.bankCard", "PAYMENT", {}),
        ("payment", "Order.buyerName", "PAYMENT", {}),
        ("merchant", "Order.orderNo", "DELIVERY", {ANY: FULL}),
        ("merchant", "Order.buyerPhone", "CUSTOMER_SUPPORT", {ANY: MASKED}),
        ("merchant", "Order.remarks", "CUSTOMER_SUPPORT", {}),
        ("analytics", "User.id", "ANALYTICS", {ANY: MASKED}),
        ("analytics", "User.id", None, {ANY: MASKED}),
        ("analytics", "User.birthDate", "ANALYTICS", {ANY: MASKED}),
        ("analytics", "User.gender", "ANALYTICS", {ANY: FULL}),
        ("analytics", "Order.amountCents", "ANALYTICS", {ANY: FULL}),
        ("analytics", "User.username", "ANALYTICS", {}),
        ("analytics", "Order.orderNo", "ANALYTICS", {}),
        # anonymous: nothing but the catalogue rows (PUBLIC fields need no grant)
        ("anonymous", "User.id", None, {}),
        ("anonymous", "Order.orderNo", "ORDER_FULFILLMENT", {}),
    ],
)
def test_field_grants_of_default_roles(
    packaged: Policy,
    role: str,
    coordinate: str,
    purpose: str | None,
    expected: dict[RowCondition, Grant],
) -> None:
    assert grants_of(packaged.field_grants([role], coordinate, purpose)) == expected


def test_grants_come_in_condition_order_with_the_deciding_rule(packaged: Policy) -> None:
    found = packaged.field_grants(
        ["support_agent"], "SupportTicket.contactPhone", "CUSTOMER_SUPPORT"
    )
    assert [g.condition for g in found] == [ANY, ASSIGNED]
    assert found[1].rule == (
        "support_agent",
        "SupportTicket.contactPhone",
        "CUSTOMER_SUPPORT",
        "full",
        "assigned",
        "allow",
    )
    # the parent-purpose line is what decided a request declaring the child
    (payment,) = packaged.field_grants(["finance"], "Order.orderNo", "PAYMENT")
    assert payment.rule == ("finance", "Order.orderNo", "ORDER_FULFILLMENT", "full", "any", "allow")
    # a deny on full leaves the masked line as the decision
    (owner,) = packaged.field_grants(["user"], "User.idNumber", "RIGHTS")
    assert owner.rule == ("user", "User.idNumber", "RIGHTS", "masked", "owner", "allow")


def test_roles_combine_as_a_union_with_each_roles_own_denies(packaged: Policy) -> None:
    # analytics is denied User.id in full; that deny does not reach security_analyst
    both = packaged.field_grants(["analytics", "security_analyst"], "User.id", None)
    assert grants_of(both) == {ANY: FULL}
    assert both[0].rule[0] == "security_analyst"
    # the best grant wins across roles and conditions are kept apart
    mixed = packaged.field_grants(["user", "support_agent"], "User.phone", "CUSTOMER_SUPPORT")
    assert grants_of(mixed) == {ANY: MASKED}
    rights = packaged.field_grants(["user", "support_agent"], "User.phone", "RIGHTS")
    assert grants_of(rights) == {OWNER: FULL}
    # the bank card is denied in full to everyone: no combination of roles gets it
    every = packaged.field_grants(sorted(DEFAULT_ROLES), "Order.bankCard", "PAYMENT")
    assert grants_of(every) == {ANY: MASKED}
    own = packaged.field_grants(sorted(DEFAULT_ROLES), "Order.bankCard", "RIGHTS")
    assert grants_of(own) == {OWNER: MASKED}


def test_unknown_role_or_purpose_gets_nothing(packaged: Policy) -> None:
    assert packaged.field_grants(["auditor"], "User.id", None) == ()
    assert packaged.field_grants(["finance"], "Order.orderNo", "SHOPPING") == ()
    assert packaged.field_grants([], "Order.orderNo", "PAYMENT") == ()
    assert packaged.row_scopes(["auditor"], "User") == frozenset()
    assert not packaged.may_declare(["auditor"], "ACCOUNT")
    assert packaged.declarable_purposes(["auditor"]) == frozenset()


def test_a_role_with_no_lines_gets_nothing(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary
) -> None:
    policy = load_policy(policy_copy("g, auditor, anonymous\n"), vocabulary)
    assert "auditor" in policy.roles()
    for coordinate, purpose in [
        ("User.id", None),
        ("User.phone", "COMPLIANCE"),
        ("Order.orderNo", "PAYMENT"),
    ]:
        assert policy.field_grants(["auditor"], coordinate, purpose) == ()
    assert policy.row_scopes(["auditor"], "User") == frozenset()
    assert policy.declarable_purposes(["auditor"]) == frozenset()
    # what it inherits from anonymous, and only that
    assert policy.row_scopes(["auditor"], "Course") == {RowScope.ALL}


# --- row scopes and purposes ------------------------------------------------------------------

ROW_SCOPES = {
    "anonymous": {"Course": "all"},
    "user": {
        t: "owner"
        for t in (
            "User",
            "Order",
            "SupportTicket",
            "Enrollment",
            "Device",
            "LoginEvent",
            "ThirdPartyLogin",
            "OrderItem",
            "TicketMessage",
        )
    },
    "support_agent": {
        t: "all" for t in ("SupportTicket", "TicketMessage", "Order", "OrderItem", "User")
    },
    "finance": {"Order": "all", "OrderItem": "all", "User": "all"},
    "security_analyst": {"User": "all", "Device": "all", "LoginEvent": "all"},
    "verification_officer": {"User": "all", "Order": "all"},
    "dpo": {"User": "all"},
    "admin": {"User": "all"},
    "logistics": {"Order": "routed", "OrderItem": "routed"},
    "payment": {"Order": "paid_through"},
    "merchant": {"Order": "merchant", "OrderItem": "merchant"},
    "analytics": {"User": "all", "Order": "all", "OrderItem": "all", "Enrollment": "all"},
}
TYPES = (
    "User",
    "Device",
    "LoginEvent",
    "ThirdPartyLogin",
    "Enrollment",
    "Order",
    "OrderItem",
    "Course",
    "SupportTicket",
    "TicketMessage",
)


@pytest.mark.parametrize("role", sorted(ROW_SCOPES))
def test_row_scopes_of_each_role(packaged: Policy, role: str) -> None:
    expected = {"Course": "all"} | ROW_SCOPES[role]
    for type_name in TYPES:
        scope = expected.get(type_name)
        assert packaged.row_scopes([role], type_name) == (
            {RowScope(scope)} if scope else frozenset()
        ), type_name


@pytest.mark.parametrize("role", sorted(ROW_SCOPES))
def test_every_row_scope_comes_with_an_id_grant(packaged: Policy, role: str) -> None:
    for type_name in set(ROW_SCOPES[role]) - {"Course"}:  # Course.id is PUBLIC
        grants = grants_of(packaged.field_grants([role], f"{type_name}.id", None))
        assert grants, f"{role} sees {type_name} rows but has no grant on its id"
    analytics_id = grants_of(packaged.field_grants(["analytics"], "User.id", None))
    assert analytics_id == {ANY: MASKED}


def test_row_scopes_of_several_roles_combine(packaged: Policy) -> None:
    assert packaged.row_scopes(["logistics", "merchant"], "Order") == {
        RowScope.ROUTED,
        RowScope.MERCHANT,
    }
    assert packaged.row_scopes(["user"], "OrderItem") == {RowScope.OWNER}
    assert packaged.row_scopes(["payment"], "OrderItem") == frozenset()


DECLARABLE = {
    "anonymous": set(),
    "user": {"RIGHTS", "ACCOUNT", "LEARNING", "PERSONALISATION"},
    "support_agent": {"CUSTOMER_SUPPORT"},
    "finance": {"ORDER_FULFILLMENT", "PAYMENT", "DELIVERY", "INVOICING"},
    "security_analyst": {"SECURITY"},
    "verification_officer": {"IDENTITY_VERIFICATION"},
    "dpo": {"COMPLIANCE", "LEGAL", "RIGHTS"},
    "admin": {"ACCOUNT", "SECURITY"},
    "logistics": {"DELIVERY"},
    "payment": {"PAYMENT"},
    "merchant": {"ORDER_FULFILLMENT", "PAYMENT", "DELIVERY", "INVOICING", "CUSTOMER_SUPPORT"},
    "analytics": {"ANALYTICS"},
    "marketing": {"MARKETING"},
}


@pytest.mark.parametrize("role", sorted(DECLARABLE))
def test_declarable_purposes_of_each_role(packaged: Policy, role: str) -> None:
    assert packaged.declarable_purposes([role]) == DECLARABLE[role]


def test_may_declare(packaged: Policy) -> None:
    assert packaged.may_declare(["finance"], "PAYMENT")  # the parent covers its children
    assert not packaged.may_declare(["payment"], "ORDER_FULFILLMENT")  # not the other way
    assert not packaged.may_declare(["logistics"], "PAYMENT")  # nor a sibling
    assert not packaged.may_declare(["analytics"], "MARKETING")
    assert packaged.may_declare(["analytics", "logistics"], "DELIVERY")
    assert not packaged.may_declare(["finance"], "SHOPPING")
    assert packaged.declarable_purposes(["payment", "dpo"]) == {
        "PAYMENT",
        "COMPLIANCE",
        "LEGAL",
        "RIGHTS",
    }


def test_packaged_policy_is_clean_and_names_the_default_roles(packaged: Policy) -> None:
    assert packaged.lint() == []
    assert packaged.roles() == DEFAULT_ROLES


# --- memoisation, version, loading ------------------------------------------------------------


def test_casbin_runs_once_per_question(fresh: Policy) -> None:
    assert fresh.enforce_calls == 0
    first = fresh.field_grants(["finance", "user"], "Order.buyerName", "PAYMENT")
    calls = fresh.enforce_calls
    assert calls > 0
    assert fresh.field_grants(["user", "finance", "user"], "Order.buyerName", "PAYMENT") == first
    fresh.row_scopes(["finance"], "Order")
    fresh.may_declare(["finance"], "PAYMENT")
    fresh.declarable_purposes(["finance"])
    calls = fresh.enforce_calls
    for _ in range(3):
        fresh.field_grants(["finance"], "Order.buyerName", "PAYMENT")
        fresh.row_scopes(["finance"], "Order")
        fresh.may_declare(["finance"], "PAYMENT")
        fresh.declarable_purposes(["finance"])
    assert fresh.enforce_calls == calls
    # a role already asked about is not asked again when it comes with another one
    fresh.field_grants(["finance", "support_agent"], "Order.buyerName", "PAYMENT")
    with_support = fresh.enforce_calls
    fresh.field_grants(["support_agent"], "Order.buyerName", "PAYMENT")
    assert fresh.enforce_calls == with_support
    # a new question does run casbin
    fresh.field_grants(["finance"], "Order.buyerName", "DELIVERY")
    assert fresh.enforce_calls > with_support


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("policy.csv", "\n# an operator's note\n"),
        ("model.conf", "\n# an operator's note\n"),
        ("purposes.toml", "\n# an operator's note\n"),
    ],
)
def test_version_changes_with_any_policy_file(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary, packaged: Policy, name: str, edit: str
) -> None:
    folder = policy_copy("")
    assert load_policy(folder, vocabulary).version == packaged.version
    with (folder / name).open("a", encoding="utf-8") as changed:
        changed.write(edit)
    version = load_policy(folder, vocabulary).version
    assert version != packaged.version
    assert len(version) == 16
    int(version, 16)


def test_an_added_line_takes_effect(policy_copy: PolicyCopy, vocabulary: PurposeVocabulary) -> None:
    folder = policy_copy("p, payment, Order.status, PAYMENT, full, any, allow\n")
    policy = load_policy(folder, vocabulary)
    assert grants_of(policy.field_grants(["payment"], "Order.status", "PAYMENT")) == {ANY: FULL}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("p, finance, Order.orderNo, SHOPPING, full, any, allow", "unknown purpose 'SHOPPING'"),
        ("p, finance, Order.orderNo, PAYMENT, read, any, allow", "unknown act 'read'"),
        ("p, finance, Order.orderNo, PAYMENT, full, mine, allow", "unknown condition 'mine'"),
        ("p, finance, Order.orderNo, PAYMENT, full, any, permit", "unknown effect 'permit'"),
        (
            "p, finance, order-number, PAYMENT, full, any, allow",
            "malformed coordinate 'order-number'",
        ),
        ("p, finance, Order, *, rows, everything, allow", "unknown row scope 'everything'"),
        ("p, finance, Order, PAYMENT, rows, all, allow", "a rows line has purpose *"),
        ("p, finance, @purpose, *, use, *, allow", "a use line names one purpose"),
        ("p, finance, Order.orderNo, PAYMENT, full, any", "a p line has 6 values"),
        ("p, finance, Order.orderNo, PAYMENT, full, any, allow # note", "unknown effect"),
        ("g2, PAYMENT, ORDER_FULFILLMENT", "g2 lines are not written in the policy"),
        ("x, finance, anonymous", "unknown line type 'x'"),
        ("g, finance, finance", "a role cannot inherit itself"),
    ],
)
def test_load_refuses_an_invalid_line_naming_it(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary, line: str, message: str
) -> None:
    folder = policy_copy(f"{line}\n")
    number = len((folder / "policy.csv").read_text(encoding="utf-8").splitlines())
    with pytest.raises(PolicyError) as refused:
        load_policy(folder, vocabulary)
    assert f"policy.csv line {number}: " in refused.value.message
    assert message in refused.value.message
    assert refused.value.code == "POLICY_INVALID"


def test_load_refuses_a_role_outside_anonymous(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary
) -> None:
    folder = policy_copy("p, auditor, User, *, rows, all, allow\n")
    with pytest.raises(PolicyError, match="role 'auditor' does not inherit anonymous"):
        load_policy(folder, vocabulary)


def test_load_refuses_an_inheritance_cycle(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary
) -> None:
    folder = policy_copy("g, a, b\ng, b, a\ng, a, anonymous\n")
    with pytest.raises(PolicyError, match="inherits itself through a cycle"):
        load_policy(folder, vocabulary)


@pytest.mark.parametrize("name", ["model.conf", "policy.csv", "purposes.toml"])
def test_load_refuses_a_missing_file(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary, name: str
) -> None:
    folder = policy_copy("")
    (folder / name).unlink()
    with pytest.raises(PolicyError, match=f"cannot read {name}"):
        load_policy(folder, vocabulary)


@pytest.mark.parametrize(
    "model",
    [
        "this is not a casbin model\n",
        "[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n"
        "[role_definition]\ng = _, _\ng2 = _, _\n[policy_effect]\n"
        "e = some(where (p.eft == allow))\n[matchers]\nm = r.sub == p.sub\n",
    ],
)
def test_load_refuses_an_invalid_model(
    policy_copy: PolicyCopy, vocabulary: PurposeVocabulary, model: str
) -> None:
    folder = policy_copy("")
    (folder / "model.conf").write_text(model, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"model\.conf"):
        load_policy(folder, vocabulary)


def test_casbin_does_not_log(
    vocabulary: PurposeVocabulary, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("casbin", "casbin.policy", "casbin.enforcer", "casbin.role"):
        logging.getLogger(name).disabled = False  # as in a process that never loaded a policy
    with caplog.at_level(logging.DEBUG):
        policy = load_policy(PACKAGED_POLICY_DIR, vocabulary)
        policy.field_grants(["payment"], "Order.bankCard", "PAYMENT")  # a denied request
        policy.field_grants(["payment"], "Order.orderNo", "PAYMENT")  # an allowed one
    assert [r for r in caplog.records if r.name.startswith("casbin")] == []


# --- the matrix agrees with the policy ---------------------------------------------------------


def test_matrix_is_complete_and_sorted() -> None:
    with MATRIX.open(encoding="utf-8", newline="") as matrix:
        rows = list(csv.reader(matrix))
    assert rows[0] == ["role", "purpose", "field", "other", "owner", "assigned"]
    body = rows[1:]
    assert body == sorted(body)
    assert {r[0] for r in body} == DEFAULT_ROLES
    assert all(set(r[3:]) <= {"FULL", "MASKED", "DENIED"} for r in body)
    fields_by_case: dict[tuple[str, str], list[str]] = {}
    for role, purpose, field, *_ in body:
        fields_by_case.setdefault((role, purpose), []).append(field)
    field_sets = {tuple(f) for f in fields_by_case.values()}
    assert len(field_sets) == 1, "every (role, purpose) lists the same fields"
    for role, declarable in DECLARABLE.items():
        declared = {p for (r, p) in fields_by_case if r == role} - {"-"}
        assert declared == declarable, role


def test_matrix_grants_are_the_policys(packaged: Policy) -> None:
    """Where the matrix discloses a value, the policy's best grant is exactly that.

    Denials also depend on the classification, which lives in the schema; they are checked by
    the engine's tests against the same file.
    """
    order = {"MASKED": 1, "FULL": 2}
    with MATRIX.open(encoding="utf-8", newline="") as matrix:
        rows = list(csv.DictReader(matrix))
    for row in rows:
        if row["field"].startswith("Course."):  # PUBLIC: no grant needed
            continue
        purpose = None if row["purpose"] == "-" else row["purpose"]
        found = grants_of(packaged.field_grants([row["role"]], row["field"], purpose))
        for column, holding in (
            ("other", {ANY}),
            ("owner", {ANY, OWNER}),
            ("assigned", {ANY, ASSIGNED}),
        ):
            if column == "owner" and row["role"] != "user":
                holding = {ANY}
            if column == "assigned" and row["role"] != "support_agent":
                holding = {ANY}
            if row[column] == "DENIED":
                continue
            best = max(
                (found[c] for c in holding if c in found), key=lambda g: order[g.name], default=None
            )
            assert best is not None and best.name == row[column], (row, column)
