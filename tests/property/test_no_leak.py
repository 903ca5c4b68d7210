"""No leak: random valid queries under random principals and purposes never return a stored
SENSITIVE value unless the policy (the expectations matrix) grants FULL for that field and row.

The whole response body is searched, not just the field the value belongs to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldgate.authz.classification import Level
from fieldgate.authz.purposes import Purpose
from fieldgate.resolvers.sources import SOURCES
from tests.gateway import Gateway
from tests.matrix.expectations import ACCOUNTS, cases

MATRIX = cases()
ROOT_FIELDS = {
    "users": ("User", True),
    "orders": ("Order", True),
    "tickets": ("SupportTicket", True),
    "courses": ("Course", True),
    "me": ("User", False),
}
MIN_LENGTH = 8  # shorter values (a city, an OS name) occur legitimately inside masked text


@dataclass(frozen=True)
class Stored:
    coordinate: str
    subject: int | None
    assignee: int | None


def fields_strategy(schema: GraphQLSchema, type_name: str, depth: int) -> st.SearchStrategy[str]:
    graphql_type = schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    leaves = [
        n
        for n, f in graphql_type.fields.items()
        if not isinstance(get_named_type(f.type), GraphQLObjectType)
    ]
    objects = [
        (n, get_named_type(f.type).name)
        for n, f in graphql_type.fields.items()
        if isinstance(get_named_type(f.type), GraphQLObjectType)
    ]

    @st.composite
    def build(draw: st.DrawFn) -> str:
        chosen = draw(
            st.lists(st.sampled_from(leaves), min_size=1, max_size=len(leaves), unique=True)
        )
        parts = []
        for name in chosen:
            alias = draw(st.sampled_from(["", "", "a_", "b_"]))
            parts.append(f"{alias}{name}: {name}" if alias else name)
        if depth < 3 and objects:
            for name, target in draw(st.lists(st.sampled_from(objects), max_size=2, unique=True)):
                inner = draw(fields_strategy(schema, target, depth + 1))
                parts.append(f"{name} {{ {inner} }}")
        return " ".join(parts)

    return build()


@st.composite
def operations(draw: st.DrawFn, schema: GraphQLSchema) -> tuple[str, str, str | None]:
    role = draw(st.sampled_from(sorted(ACCOUNTS)))
    # Mostly purposes the role may declare (else the operation is refused as a whole).
    declarable = sorted(p for r, p in MATRIX if r == role and p is not None)
    if declarable and draw(st.integers(0, 9)) < 8:
        purpose = draw(st.sampled_from(declarable))
    else:
        purpose = draw(st.sampled_from([None, *sorted(p.value for p in Purpose)]))
    root = draw(st.sampled_from(sorted(ROOT_FIELDS)))
    type_name, is_connection = ROOT_FIELDS[root]
    inner = draw(fields_strategy(schema, type_name, 1))
    body = (
        f"{root}(first: {draw(st.integers(1, 40))}) {{ edges {{ node {{ {inner} }} }} }}"
        if is_connection
        else f"{root} {{ {inner} }}"
    )
    directive = f" @purpose(name: {purpose})" if purpose else ""
    return role, f"query Random{directive} {{ {body} }}", purpose


_SENSITIVE: dict[str, dict[str, list[Stored]]] = {}


async def sensitive_values(gateway: Gateway) -> dict[str, list[Stored]]:
    """Every stored SENSITIVE string (long enough to be telling) and where it is stored."""
    if gateway.database_url in _SENSITIVE:
        return _SENSITIVE[gateway.database_url]
    found: dict[str, list[Stored]] = {}
    for coordinate, classification in gateway.services.catalog.classifications.items():
        if classification.level is not Level.SENSITIVE or classification.relation:
            continue
        source = SOURCES[coordinate.split(".")[0]]
        async with gateway.services.engine.connect() as conn:
            rows = (await conn.execute(source.select([classification.attribute]))).mappings().all()
        # encrypted columns: search for what they open to, not for their ciphertext
        services = gateway.services
        decrypt = services.decrypt if coordinate in services.encrypted_coordinates else None
        for row in rows:
            value = row[classification.attribute]
            if decrypt is not None and value is not None:
                value = decrypt(value)
            if isinstance(value, str) and len(value) >= MIN_LENGTH:
                found.setdefault(value, []).append(
                    Stored(coordinate, row.get("_subject"), row.get("_assignee"))
                )
    _SENSITIVE[gateway.database_url] = found
    return found


def granted_full(
    role: str, purpose: str | None, stored: Stored, user: int | None, staff: int | None
) -> bool:
    expectation = (
        MATRIX[(role, purpose)].get(stored.coordinate) if (role, purpose) in MATRIX else None
    )
    if expectation is None:
        return False
    if user is not None and stored.subject == user:
        return expectation.owner == "FULL"
    if staff is not None and stored.assignee == staff:
        return expectation.assigned == "FULL"
    return expectation.other == "FULL"


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_sensitive_value_leaks(gateway: Gateway, data: st.DataObject) -> None:
    schema = gateway.services.schema._schema
    role, query, purpose = data.draw(operations(schema))
    account = ACCOUNTS[role]
    token = await gateway.token(account) if account else None
    user = staff = None
    if token is not None:
        principal = gateway.services.tokens.verify(token)
        user, staff = principal.user_id, principal.staff_id
    effective = purpose if purpose or role != "user" else "RIGHTS"
    response = await gateway.post(query, token=token)
    assert response.status_code == 200
    body = json.dumps(response.json(), ensure_ascii=False)
    for value, places in (await sensitive_values(gateway)).items():
        if value in body:
            assert any(granted_full(role, effective, p, user, staff) for p in places), (
                f"{role}/{purpose}: a stored value of {[p.coordinate for p in places]} leaked "
                f"in {query}"
            )


def test_the_oracle_sees_values(gateway: Any) -> None:
    """Guard against a vacuous property: the matrix grants FULL somewhere and values exist."""
    assert any(
        e.other == "FULL" or e.owner == "FULL"
        for fields in MATRIX.values()
        for c, e in fields.items()
        if c in ("User.phone", "Order.buyerPhone", "Order.deliveryAddress")
    )
