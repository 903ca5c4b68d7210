"""A copy of the demo database altered in exactly what one principal may not read in full.

For a principal and purpose, every stored value whose field is not disclosed FULL on its
row (the engine's compiled rule for the field and the row's conditions: own row, assigned
ticket) is changed:

- a **denied** value becomes another value of its type (every character shifted, a number
  plus one, a time a day later);
- a **masked** value changes only where its mask hides it: each character is shifted when
  the mask of the result is still the mask of the original, so the response is the same
  byte for byte whatever the mask strategy (a pseudonym, whose every input character shows,
  stays as it is).

Left as they are: keys (primary and foreign), the columns that decide which rows the
principal sees at all (its row scopes' SQL: a row scope is the policy's decision, not a
value read), a column read through more than one field, the subject's birth date (it
decides the gates for children, a fact the gateway acts on), and the audit trail. Rows
outside the principal's scopes are altered like any other: their fields are not FULL to it
either, or, when FULL, they can be seen through another path and stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.visitors import iterate

from fieldgate.authz.conditions import conditions_for
from fieldgate.authz.decisions import Disclosure, decide_field
from fieldgate.authz.principal import Principal
from fieldgate.crypto.encrypted import ENCRYPTED_COORDINATES
from fieldgate.models.tables import users
from fieldgate.resolvers.context import Services
from fieldgate.resolvers.sources import SOURCES

KEPT = frozenset({"User.birthDate"})
SKIPPED_TYPES = frozenset({"AuditEventView", "AccessLogEntry"})


def shifted(value: Any) -> Any:
    """Another value of the same type and length."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, datetime | date):
        return value + timedelta(days=1)
    if isinstance(value, str):
        return "".join(_shift(c) for c in value)
    return value


def _shift(char: str) -> str:
    if char.isdigit():
        return str((int(char) + 1) % 10)
    if "a" <= char.lower() <= "z":
        base = ord("a") if char.islower() else ord("A")
        return chr(base + (ord(char) - base + 1) % 26)
    if char.isspace() or not char.isprintable():
        return char
    return chr(ord(char) + 1) if char.isalpha() else char


def hidden_shift(value: Any, mask: Callable[[Any], Any]) -> Any:
    """``value`` changed in every place its mask hides, and nowhere else."""
    if not isinstance(value, str):
        candidate = shifted(value)
        return candidate if mask(candidate) == mask(value) else value
    original = mask(value)
    chars = list(value)
    for index, char in enumerate(chars):
        other = _shift(char)
        if other == char:
            continue
        chars[index] = other
        if mask("".join(chars)) != original:
            chars[index] = char
    return "".join(chars)


def _scope_columns(services: Services, principal: Principal) -> set[Column[Any]]:
    policy = services.policy
    found: set[Column[Any]] = set()
    for source in SOURCES.values():
        for element in iterate(source.visibility(principal, policy)):
            if isinstance(element, Column):
                found.add(element)
    return found


def _columns(services: Services, principal: Principal) -> Iterator[tuple[str, str, Column[Any]]]:
    """(type, coordinate, column) of every alterable value column."""
    catalog = services.catalog
    scoped = _scope_columns(services, principal)
    readers: dict[Column[Any], list[str]] = {}
    found: list[tuple[str, str, Column[Any]]] = []
    for coordinate, classification in catalog.classifications.items():
        type_name = coordinate.split(".", 1)[0]
        if classification.relation or type_name in SKIPPED_TYPES or coordinate in KEPT:
            continue
        column = SOURCES[type_name].columns.get(classification.attribute)
        if not isinstance(column, Column) or not isinstance(column.table, Table):
            continue
        readers.setdefault(column, []).append(coordinate)
        if column.primary_key or column.foreign_keys or column in scoped:
            continue
        found.append((type_name, coordinate, column))
    for type_name, coordinate, column in found:
        if len(readers[column]) == 1:
            yield type_name, coordinate, column


async def alter_for(
    engine: AsyncEngine, services: Services, principal: Principal, purpose: str | None
) -> int:
    """Alter, in the database behind ``engine``, every value ``principal`` may not read in
    full under ``purpose``; the number of values changed."""
    policy = services.policy
    conditions = conditions_for(principal)
    masks = services.pseudonyms.resolver(principal)  # this principal's masks, keys included
    keyring = services.keyring
    changed = 0
    async with engine.begin() as conn:
        for type_name, coordinate, column in _columns(services, principal):
            classification = services.catalog.classifications[coordinate]
            rule = decide_field(classification, principal, purpose, policy)
            if all(o.disclosure is Disclosure.FULL for o in rule.possible()):
                continue
            source = SOURCES[type_name]
            table = column.table
            assert isinstance(table, Table)
            (key,) = table.primary_key.columns
            hidden: list[ColumnElement[Any]] = [c.label(n) for n, c in source.hidden.items()]
            statement = select(key.label("_key"), column.label("_value"), *hidden).select_from(
                source.from_clause
            )
            for row in (await conn.execute(statement)).mappings().all():
                value = row["_value"]
                outcome = rule.outcome_for(conditions(row))
                if value is None or outcome.disclosure is Disclosure.FULL:
                    continue
                encrypted = coordinate in ENCRYPTED_COORDINATES
                plain = keyring.decrypt(value) if encrypted else value
                if outcome.disclosure is Disclosure.MASKED:
                    assert outcome.strategy is not None
                    new = hidden_shift(plain, masks(outcome.strategy, coordinate))
                else:
                    new = shifted(plain)
                if new == plain:
                    continue
                values: dict[str, Any] = {column.name: keyring.encrypt(new) if encrypted else new}
                if coordinate == "User.idNumber":
                    values[users.c.id_number_index.name] = keyring.blind_index(new)
                await conn.execute(update(table).where(key == row["_key"]).values(**values))
                changed += 1
    return changed
