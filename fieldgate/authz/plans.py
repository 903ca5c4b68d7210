"""Plans: the per-operation decision table, compiled once and cached.

A plan is data over field coordinates: the engine is handed what an operation selects
(``Selected``: where it produces rows and which classified fields it selects on them, found
by ``fieldgate.schema.planning``) and decides each coordinate once. Every place that
produces rows (a row type, a list of rows, or a connection of rows) becomes a *producer*,
keyed by its response path without list indices (``("orders", "edges", "node", "items")``),
which is what a resolver finds in ``info.path``. A producer knows which fields of its rows
the operation selects, the compiled rule of each, and the selections to report when a rule
denies. Per value, disclosure is then a dictionary lookup and, when masked, one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from fieldgate.authz.decisions import Disclosure, FieldRule

INDEX = -1
"""Stands for a list index in a producer's ``row_prefix``."""

PathKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """One field selection in the document: what a denial error is reported against."""

    response_key: str
    coordinate: str
    attribute: str


@dataclass(slots=True)
class Producer:
    """The rows produced at one place of the response, and what to do with their fields."""

    key: PathKey
    type_name: str
    row_prefix: tuple[str | int, ...]
    rules: dict[str, FieldRule] = field(default_factory=dict)
    selections: list[Selection] = field(default_factory=list)

    @property
    def is_conditional(self) -> bool:
        return any(not rule.is_static for rule in self.rules.values())

    def readable_attributes(self) -> list[str]:
        """Attributes some row may disclose: the only columns worth reading."""
        return [
            attribute
            for attribute, rule in self.rules.items()
            if any(o.disclosure is not Disclosure.DENIED for o in rule.possible())
        ]


@dataclass(frozen=True, slots=True)
class Plan:
    """The compiled decisions of one operation for one (roles, scopes, purpose, policy)."""

    purpose: str | None
    policy_version: str
    producers: Mapping[PathKey, Producer]
    rules: Mapping[str, FieldRule]
    # the operation compiled for this plan (``fieldgate.schema.compiled``), filled on reuse
    compiled: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def producer(self, key: PathKey) -> Producer | None:
        return self.producers.get(key)

    def coordinates(self, disclosure: Disclosure) -> list[str]:
        """Coordinates whose rule can end in ``disclosure`` (for ``extensions.disclosure``)."""
        return sorted(
            c
            for c, rule in self.rules.items()
            if any(o.disclosure is disclosure for o in rule.possible())
        )


Decide = Callable[[str], FieldRule]


@dataclass(frozen=True, slots=True)
class RowsAt:
    """A place of the response where the operation produces rows of ``type_name``."""

    key: PathKey
    type_name: str
    row_prefix: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Selected:
    """What one operation selects, as the engine needs it: every place it produces rows,
    and every classified field it selects on those rows (with the producer's key), in the
    order of the document."""

    rows: tuple[RowsAt, ...]
    fields: tuple[tuple[PathKey, Selection], ...]


def compile_plan(
    selected: Selected, *, purpose: str | None, policy_version: str, decide: Decide
) -> Plan:
    """Decide every coordinate ``selected`` names, once, and lay the rules out by producer."""
    producers = {at.key: Producer(at.key, at.type_name, at.row_prefix) for at in selected.rows}
    rules: dict[str, FieldRule] = {}
    for key, selection in selected.fields:
        rule = rules.get(selection.coordinate)
        if rule is None:
            rule = rules[selection.coordinate] = decide(selection.coordinate)
        producer = producers[key]
        producer.rules[selection.attribute] = rule
        producer.selections.append(selection)
    return Plan(purpose=purpose, policy_version=policy_version, producers=producers, rules=rules)


@dataclass(slots=True)
class CompiledCounts:
    """Queries answered on the compiled path, handed back to the general executor, and
    found not covered by the compiler (counted once per plan)."""

    runs: int = 0
    fallbacks: int = 0
    unsupported: int = 0


@dataclass(slots=True)
class CompiledRequest:
    """What a query whose plan is cached hands the compiled path (``fieldgate.schema.compiled``).

    ``store`` is the plan's own slot for its compiled operation (``Plan.compiled``: ``None``
    once found unsupported); ``restart`` gives the request a fresh disclosure context and
    loaders before the general executor answers instead; ``counts`` gathers runs and
    fallbacks.
    """

    store: dict[str, Any]
    restart: Callable[[], None]
    counts: CompiledCounts


class PlanCache:
    """A bounded least-recently-used cache of plans, with hit and miss counters."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self.compiled = CompiledCounts()
        self._plans: LRUCache[tuple[Any, ...], Plan] = LRUCache(maxsize=size)

    def get(self, key: tuple[Any, ...]) -> Plan | None:
        plan = self._plans.get(key)
        if plan is None:
            self.misses += 1
            return None
        self.hits += 1
        return plan

    def put(self, key: tuple[Any, ...], plan: Plan) -> None:
        self._plans[key] = plan

    def clear(self) -> None:
        self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
