"""The expectations matrix, driven over HTTP against demo data.

For every default role and each purpose it may declare (and none), every classified field
is queried and every value returned is checked against the stored row: FULL equals the
stored value, MASKED differs from it and equals the strategy applied to it, DENIED is null
and reported by an error naming the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type
from sqlalchemy import select

from fieldgate.authz.classification import Catalog
from fieldgate.authz.masking import MaskStrategy, mask_region_province
from fieldgate.authz.principal import ANONYMOUS
from fieldgate.models import Consent
from fieldgate.models.tables import users
from fieldgate.resolvers.sources import SOURCES
from tests.gateway import Gateway
from tests.matrix.expectations import (
    ACCOUNTS,
    DEIDENTIFIED_PURPOSES,
    QUASI_IDENTIFIERS,
    Expectation,
    K,
    cases,
)

CASES = cases()
consents = Consent.__table__  # type: ignore[attr-defined]
ROOTS = {
    "users": ("User", "users(first: 20)"),
    "orders": ("Order", "orders(first: 25)"),
    "tickets": ("SupportTicket", "tickets(first: 60)"),
    "courses": ("Course", "courses(first: 5)"),
}
DENIAL_CODES = {"FORBIDDEN_FIELD", "PURPOSE_REQUIRED"}
CONSENT_PURPOSES = {"MARKETING", "PERSONALISATION", "RESEARCH"}


def selection(schema: GraphQLSchema, type_name: str, depth: int = 0) -> str:
    """Every field of ``type_name`` the schema (a principal's view) offers, two levels deep."""
    graphql_type = schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        target = get_named_type(field.type)
        if isinstance(target, GraphQLObjectType):
            if depth < 2:
                parts.append(f"{name} {{ {selection(schema, target.name, depth + 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def view_of(gateway: Gateway, token: str | None) -> GraphQLSchema:
    """The schema this principal is served (fields it could never receive are not in it)."""
    services = gateway.services
    principal = services.tokens.verify(token) if token else ANONYMOUS
    views = services.schema_views
    view = views.for_principal(principal, services.policy) if views is not None else None
    return view.schema if view is not None else services.schema._schema


def hidden_fields(full: GraphQLSchema, view: GraphQLSchema, catalog: Catalog) -> set[str]:
    hidden = set()
    for coordinate in catalog.classifications:
        type_name, field = coordinate.split(".")
        seen = view.get_type(type_name)
        if not isinstance(seen, GraphQLObjectType) or field not in seen.fields:
            hidden.add(coordinate)
    return hidden


def serialize(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


async def consents_in_effect(gateway: Gateway, purpose: str = "IDENTITY_VERIFICATION") -> set[int]:
    """Subjects whose consent to ``purpose`` is in effect (a minor's needs a guardian)."""
    today = datetime.now(UTC).date()
    statement = (
        select(consents.c.user_id, consents.c.guardian_consent, users.c.birth_date)
        .join(users, users.c.id == consents.c.user_id)
        .where(consents.c.purpose == purpose, consents.c.withdrawn_at.is_(None))
    )
    async with gateway.services.engine.connect() as conn:
        rows = (await conn.execute(statement)).all()
    found = set()
    for row in rows:
        born = row.birth_date
        adult = (
            born is None
            or (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 18
        )
        if adult or row.guardian_consent:
            found.add(row.user_id)
    return found


def is_minor(born: date | None, today: date) -> bool:
    if born is None:
        return False
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 18


async def small_groups(gateway: Gateway, excluded: set[int]) -> set[int]:
    """Users sharing their birth year, gender and province with fewer than K users (the
    ``excluded``, whose values are withheld anyway, count in no group)."""
    async with gateway.services.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(users.c.id, users.c.birth_date, users.c.gender, users.c.region)
            )
        ).all()
    keys = {
        row.id: (
            row.birth_date.year if row.birth_date else None,
            row.gender,
            mask_region_province(row.region) if row.region is not None else None,
        )
        for row in rows
        if row.id not in excluded
    }
    sizes: dict[tuple[Any, ...], int] = {}
    for key in keys.values():
        sizes[key] = sizes.get(key, 0) + 1
    return {row.id for row in rows if row.id in excluded or sizes[keys[row.id]] < K}


async def unguarded_minors(gateway: Gateway, purpose: str) -> set[int]:
    """Minors without a guardian's consent to ``purpose`` in effect."""
    today = datetime.now(UTC).date()
    async with gateway.services.engine.connect() as conn:
        rows = (await conn.execute(select(users.c.id, users.c.birth_date))).all()
    consented = await consents_in_effect(gateway, purpose)
    return {row.id for row in rows if is_minor(row.birth_date, today)} - consented


class Checker:
    """Checks one (role, purpose) case's responses against the stored rows."""

    def __init__(
        self,
        gateway: Gateway,
        role: str,
        purpose: str | None,
        expectations: dict[str, Expectation],
    ):
        self.gateway = gateway
        self.role = role
        self.purpose = purpose
        self.identity_consented: set[int] = set()
        self.purpose_consented: set[int] = set()
        self.small_groups: set[int] = set()
        self.unguarded_minors: set[int] = set()
        self.expectations = expectations
        self.catalog: Catalog = gateway.services.catalog
        # the masks of the principal's recipient (its own pseudonym key), set by prepare()
        self.masks = gateway.services.pseudonyms.resolver(ANONYMOUS)
        self.checked = 0
        self.denied_seen: set[str] = set()
        self.caller_user_id: int | None = None
        self.caller_staff_id: int | None = None
        self.pseudonyms: dict[str, dict[str, int]] = {}  # type -> pseudonym -> id

    async def prepare(self, token: str | None) -> None:
        if token is None:
            return
        principal = self.gateway.services.tokens.verify(token)
        self.caller_user_id = principal.user_id
        self.caller_staff_id = principal.staff_id
        self.masks = self.gateway.services.pseudonyms.resolver(principal)
        # every id of every row type, as this recipient's pseudonym, to map it back
        async with self.gateway.services.engine.connect() as conn:
            for type_name, source in SOURCES.items():
                ids = (await conn.execute(select(source.id_column))).scalars().all()
                pseudonym = self.masks(MaskStrategy.PSEUDONYM, f"{type_name}.id")
                self.pseudonyms[type_name] = {pseudonym(str(i)): i for i in ids}
        self.identity_consented = await consents_in_effect(self.gateway)
        if self.purpose in CONSENT_PURPOSES:
            self.purpose_consented = await consents_in_effect(self.gateway, self.purpose)
        if self.purpose in DEIDENTIFIED_PURPOSES:
            self.unguarded_minors = await unguarded_minors(self.gateway, self.purpose)
            self.small_groups = await small_groups(self.gateway, self.unguarded_minors)

    def row_kind(self, stored: dict[str, Any]) -> str:
        if self.caller_user_id is not None and stored.get("_subject") == self.caller_user_id:
            return "owner"
        if self.caller_staff_id is not None and stored.get("_assignee") == self.caller_staff_id:
            return "assigned"
        return "other"

    def row_id(self, type_name: str, node: dict[str, Any]) -> int:
        raw = node["id"]
        if raw in self.pseudonyms.get(type_name, {}):
            return self.pseudonyms[type_name][raw]
        return int(raw)

    async def stored_rows(self, type_name: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        source = SOURCES[type_name]
        statement = source.select(list(source.columns)).where(source.id_column.in_(ids))
        async with self.gateway.services.engine.connect() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        return {row["_id"]: self.opened(type_name, dict(row)) for row in rows}

    def opened(self, type_name: str, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its encrypted values opened: what FULL and MASKED start from."""
        services = self.gateway.services
        for coordinate in services.encrypted_coordinates:
            if coordinate.split(".")[0] != type_name:
                continue
            attribute = self.catalog.classifications[coordinate].attribute
            if row.get(attribute) is not None:
                assert services.decrypt is not None
                row[attribute] = services.decrypt(row[attribute])
        return row

    async def check(self, type_name: str, nodes: list[dict[str, Any]]) -> None:
        if not nodes:
            return
        stored = await self.stored_rows(type_name, [self.row_id(type_name, n) for n in nodes])
        for node in nodes:
            row = stored[self.row_id(type_name, node)]
            kind = self.row_kind(row)
            for field, value in node.items():
                coordinate = f"{type_name}.{field}"
                expected = getattr(self.expectations[coordinate], kind)
                classification = self.catalog.classifications[coordinate]
                where = f"{self.role} {coordinate} row {row['_id']} ({kind})"
                if (
                    self.purpose == "IDENTITY_VERIFICATION"
                    and coordinate in ("User.idNumber", "Order.buyerIdNumber")
                    and row["_subject"] not in self.identity_consented
                ):
                    expected = "DENIED"  # the data subject's separate consent is missing
                if (
                    self.purpose in CONSENT_PURPOSES
                    and classification.is_personal
                    and not classification.relation
                    and row.get("_subject") not in self.purpose_consented
                ):
                    expected = "DENIED"  # no opt-in to this purpose: withheld per row
                if (
                    classification.is_personal
                    and not classification.relation
                    and row.get("_subject") in self.unguarded_minors
                ):
                    expected = "DENIED"  # a minor's values need a guardian's consent
                if coordinate in QUASI_IDENTIFIERS and row.get("_subject") in self.small_groups:
                    expected = "DENIED"  # fewer than K share these quasi-identifiers
                if expected == "DENIED":
                    assert value is None, f"{where}: expected DENIED, got a value"
                    self.denied_seen.add(coordinate)
                elif classification.relation:
                    assert expected == "FULL", where
                    if value is not None:
                        children = value if isinstance(value, list) else [value]
                        target = get_named_type(
                            self.gateway.services.schema._schema.get_type(type_name)
                            .fields[field]  # type: ignore[union-attr]
                            .type
                        ).name
                        await self.check(target, children)
                else:
                    original = serialize(row[classification.attribute])
                    if field == "id" and original is not None:
                        original = str(original)  # GraphQL ID
                    if expected == "FULL":
                        assert value == original, f"{where}: FULL differs from the stored value"
                    else:
                        assert classification.mask is not None
                        if original is None:
                            assert value is None, where
                        else:
                            masked = serialize(
                                self.masks(classification.mask, coordinate)(
                                    row[classification.attribute]
                                )
                            )
                            assert value == masked, f"{where}: not the {classification.mask} mask"
                            if len(str(original)) > 4:
                                assert value != original, f"{where}: MASKED equals the original"
                self.checked += 1


@pytest.mark.parametrize(
    ("role", "purpose"),
    sorted(CASES, key=lambda c: (c[0], c[1] or "")),
    ids=lambda v: v or "none",
)
async def test_matrix_over_http(gateway: Gateway, role: str, purpose: str | None) -> None:
    expectations = CASES[(role, purpose)]
    account = ACCOUNTS[role]
    token = await gateway.token(account) if account else None
    checker = Checker(gateway, role, purpose, expectations)
    await checker.prepare(token)
    directive = f" @purpose(name: {purpose})" if purpose else ""
    errors_by_field: dict[str, set[str]] = {}
    view = view_of(gateway, token)
    # A field outside the principal's schema can never be received: the matrix must agree.
    for coordinate in hidden_fields(
        gateway.services.schema._schema, view, gateway.services.catalog
    ):
        expectation = expectations[coordinate]
        assert {expectation.other, expectation.owner, expectation.assigned} == {"DENIED"}, (
            f"{role}/{purpose}: {coordinate} is hidden from the schema but the matrix shows it"
        )
    query_type = view.query_type
    assert query_type is not None
    for root, (type_name, field) in ROOTS.items():
        if root not in query_type.fields:
            continue  # the principal's schema has no such root: nothing of it can be seen
        query = (
            f"query Matrix{directive} {{ {field} {{ edges {{ node {{ "
            f"{selection(view, type_name)} }} }} }} }}"
        )
        response = await gateway.post(query, token=token)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert payload["data"] is not None, payload
        for error in payload.get("errors", []):
            extensions = error["extensions"]
            assert extensions["code"] in DENIAL_CODES, error
            assert extensions["count"] >= 1
            errors_by_field.setdefault(extensions["field"], set()).add(root)
        nodes = [edge["node"] for edge in payload["data"][root]["edges"]]
        await checker.check(type_name, nodes)
    # every denial seen in the values was reported, and nothing else was
    assert set(errors_by_field) == checker.denied_seen
    # the case is not vacuous: whatever the matrix lets this role see, it saw
    visible = {
        c.split(".")[0]
        for c, e in expectations.items()
        if "FULL" in (e.other, e.owner, e.assigned) and not c.startswith("Course.")
    }
    if visible:
        assert checker.checked > 0, f"{role}/{purpose}: nothing checked"
