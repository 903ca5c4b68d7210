"""The compiled path answers cached queries exactly as graphql-core's executor does.

Each query is sent first with the compiled path off (the general executor answers and the
plan is cached), then with it on (the cached plan's compiled operation answers), and the
two responses must be equal: data, errors (messages, paths, codes, counts) and
extensions. Compared so: hand-written cases (aliases, fragments, ``@skip``, relations,
errors), every query of the expectations matrix, and the no-leak generator's queries.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_matrix import CASES as MATRIX_CASES
from tests.e2e.test_matrix import ROOTS, selection, view_of
from tests.gateway import Gateway, recorded_statements
from tests.matrix.expectations import ACCOUNTS
from tests.property.test_no_leak import operations

ORDER_FIELDS = (
    "id orderNo status amountCents createdAt buyerName buyerPhone buyerIdNumber bankCard "
    "deliveryAddress invoiceTitle invoiceTaxId remarks items { id quantity priceCents "
    "course { id title category } }"
)


async def both_paths(
    gateway: Gateway,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    as_: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(general response, compiled response, compiled runs it took: 0 or 1)."""
    services = gateway.services
    token = await gateway.token(as_) if as_ else None
    services.compiled_path = False
    try:
        general = (await gateway.post(query, variables, token=token, headers=headers)).json()
    finally:
        services.compiled_path = True
    counts = services.plans.compiled
    runs = counts.runs
    compiled = (await gateway.post(query, variables, token=token, headers=headers)).json()
    return general, compiled, counts.runs - runs


DENIALS = {"FORBIDDEN_FIELD", "PURPOSE_REQUIRED"}


def compiled_answers(general: dict[str, Any]) -> bool:
    """Whether the compiled path must have answered the second request: the executor
    returned data with no error but denials and a nullable root field's coded refusal
    (``NOT_FOUND``, answered on the compiled path as the executor does). A refused
    operation never executes; any other error hands the request back to the executor."""
    codes = {e.get("extensions", {}).get("code") for e in general.get("errors") or ()}
    return general.get("data") is not None and codes <= DENIALS | {"NOT_FOUND"}


CASES: list[tuple[str, str | None, str, dict[str, Any] | None]] = [
    (
        "support, every order field",
        "support1",
        "query @purpose(name: CUSTOMER_SUPPORT) "
        f"{{ orders(first: 40) {{ totalCount edges {{ cursor node {{ {ORDER_FIELDS} }} }} "
        "pageInfo { hasNextPage endCursor } } }",
        None,
    ),
    (
        "logistics partner, mostly denied",
        "sf-express",
        "query @purpose(name: DELIVERY) "
        "{ orders(first: 30) { edges { node { id orderNo deliveryAddress buyerPhone } } } }",
        None,
    ),
    ("small", "alice", "{ me { id username phone __typename } }", None),
    (
        "aliases, fragments and skip",
        "support1",
        "query Q($skip: Boolean!) @purpose(name: CUSTOMER_SUPPORT) { "
        "a: orders(first: 3) { edges { node { ...O phone: buyerPhone } } } "
        "b: tickets(first: 3) { edges { node { id subject @skip(if: $skip) "
        "messages { body } } } } } fragment O on Order { id buyerName no: orderNo }",
        {"skip": True},
    ),
    ("not found", "alice", '{ order(id: "999999") { id } }', None),
    ("no purpose", "support1", "{ orders(first: 2) { edges { node { buyerPhone } } } }", None),
    ("anonymous catalogue", None, "{ courses(first: 5) { edges { node { id title } } } }", None),
]


@pytest.mark.parametrize(
    ("name", "subject", "query", "variables"), CASES, ids=[c[0] for c in CASES]
)
async def test_the_compiled_path_answers_as_the_executor_does(
    gateway: Gateway, name: str, subject: str | None, query: str, variables: dict[str, Any] | None
) -> None:
    general, compiled, runs = await both_paths(gateway, query, variables, as_=subject)
    assert compiled == general
    assert runs == int(compiled_answers(general)), name


async def test_cached_queries_take_the_compiled_path(gateway: Gateway) -> None:
    query = CASES[0][2]
    general, compiled, runs = await both_paths(gateway, query, as_="support1")
    assert runs == 1
    assert compiled == general
    assert general["data"]["orders"]["edges"], "the query returns rows"


async def test_a_root_fields_refusal_is_answered_without_running_it_again(
    gateway: Gateway,
) -> None:
    """A nullable root field's NOT_FOUND is answered on the compiled path, as the executor
    answers it, and its SQL runs once: no fallback to the executor."""
    query = '{ order(id: "999999") { id } }'
    await both_paths(gateway, query, as_="alice")  # cached
    fallbacks = gateway.services.plans.compiled.fallbacks
    token = await gateway.token("alice")
    with recorded_statements(gateway) as statements:
        payload = (await gateway.post(query, token=token)).json()
    assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert payload["data"] == {"order": None}
    assert gateway.services.plans.compiled.fallbacks == fallbacks
    orders = [s for s in statements if "FROM orders" in s]
    assert len(orders) == 1, statements


async def test_mutations_never_take_the_compiled_path(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    runs = gateway.services.plans.compiled.runs
    for _ in range(2):
        response = await gateway.post(
            'mutation { updateMyProfile(input: { nickname: "same" }) { nickname } }', token=token
        )
        assert response.json()["data"]["updateMyProfile"]["nickname"] == "same"
    assert gateway.services.plans.compiled.runs == runs


@pytest.mark.parametrize(
    ("role", "purpose"),
    sorted(MATRIX_CASES, key=lambda c: (c[0], c[1] or "")),
    ids=lambda v: v or "none",
)
async def test_every_matrix_query_is_answered_alike(
    gateway: Gateway, role: str, purpose: str | None
) -> None:
    account = ACCOUNTS[role]
    token = await gateway.token(account) if account else None
    view = view_of(gateway, token)
    query_type = view.query_type
    assert query_type is not None
    directive = f" @purpose(name: {purpose})" if purpose else ""
    compared = 0
    for root, (type_name, field) in ROOTS.items():
        if root not in query_type.fields:
            continue
        query = (
            f"query Matrix{directive} {{ {field} {{ edges {{ node {{ "
            f"{selection(view, type_name)} }} }} }} }}"
        )
        general, compiled, runs = await both_paths(gateway, query, as_=account)
        assert compiled == general, f"{role}/{purpose} {root}"
        assert runs == 1, f"{role}/{purpose} {root}: the compiled path did not answer"
        compared += 1
    assert compared, f"{role}/{purpose}: no root to compare"


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_no_leak_generators_queries_are_answered_alike(
    gateway: Gateway, data: st.DataObject
) -> None:
    services = gateway.services
    role, query, _ = data.draw(operations(services.schema._schema))
    views = services.schema_views
    services.schema_views = None  # the whole schema: more fields, more denials compared
    try:
        general, compiled, runs = await both_paths(gateway, query, as_=ACCOUNTS[role])
    finally:
        services.schema_views = views
    assert compiled == general, query
    assert runs == int(compiled_answers(general)), query  # compared, not skipped
