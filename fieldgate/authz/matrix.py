"""The policy as a grid: fields as rows, roles × purposes as columns (``policy matrix``).

Every cell comes from ``explain``, so from the same ``decide_field`` the gateway runs: the
disclosure on other rows, on own rows (users) and on assigned rows (staff), the mask, the
reason of a denial and the rule that decided. With a shadow candidate, each cell also
carries the candidate's decision where it differs. The row scopes (which rows of a type a
role sees at all) come with it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fieldgate.authz.classification import Catalog, Level
from fieldgate.authz.decisions import Disclosure
from fieldgate.authz.explain import ExplainRow, explain, principal_kind
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import ANONYMOUS_ROLE
from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import BadUserInput

NO_PURPOSE = "(none)"  # the column of operations that declare no purpose
ROLE_ABSENT = "DENIED (role not in the candidate)"


@dataclass(frozen=True, slots=True)
class Column:
    """One role under one purpose (None: no purpose declared)."""

    role: str
    purpose: str | None

    @property
    def label(self) -> str:
        return self.purpose or NO_PURPOSE


@dataclass(frozen=True, slots=True)
class Cell:
    """What one column gets of one field, and the candidate's answer where it differs."""

    row: ExplainRow
    candidate: str | None = None  # the candidate's answer, only where it differs

    @property
    def text(self) -> str:
        """``MASKED PHONE · assigned FULL``: the default, then the variants that differ."""
        return outcome_text(self.row)


@dataclass(frozen=True, slots=True)
class PolicyMatrix:
    """The grid: ``fields`` (sorted coordinates) × ``columns``, and each role's row scopes."""

    policy_version: str
    candidate_version: str | None
    columns: tuple[Column, ...]
    fields: tuple[str, ...]
    levels: dict[str, Level]
    cells: dict[tuple[str, Column], Cell]
    row_scopes: dict[tuple[str, str], tuple[str, ...]]  # (role, type) -> scopes

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(sorted({f.split(".", 1)[0] for f in self.fields}))

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.role for c in self.columns))

    @property
    def differences(self) -> int:
        return sum(1 for cell in self.cells.values() if cell.candidate is not None)


def outcome_text(row: ExplainRow) -> str:
    """The default disclosure (with its mask), then own/assigned variants that differ."""
    text = _one(row.other, row)
    for label, variant in (("own", row.owner), ("assigned", row.assigned)):
        if variant is not None and variant is not row.other:
            text += f" · {label} {_one(variant, row)}"
    return text


def _one(disclosure: Disclosure, row: ExplainRow) -> str:
    if disclosure is Disclosure.MASKED and row.strategy is not None:
        return f"MASKED {row.strategy.value}"
    return disclosure.value


def columns_of(policy: Policy, roles: Iterable[str] | None = None) -> tuple[Column, ...]:
    """Each role's columns: every purpose it may declare, and no purpose (except for users,
    whose operations default to RIGHTS)."""
    chosen = sorted(policy.roles() if roles is None else set(roles))
    unknown = sorted(set(chosen) - policy.roles())
    if unknown:
        raise BadUserInput(f"unknown role {', '.join(unknown)} (not in the policy)")
    found: list[Column] = []
    for role in chosen:
        kind = principal_kind([role])
        if kind is not PrincipalKind.USER:
            found.append(Column(role, None))
        if role != ANONYMOUS_ROLE:
            found.extend(Column(role, p) for p in sorted(policy.declarable_purposes([role])))
    return tuple(found)


def policy_matrix(
    catalog: Catalog,
    policy: Policy,
    *,
    candidate: Policy | None = None,
    roles: Iterable[str] | None = None,
    purposes: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
) -> PolicyMatrix:
    """The grid of ``policy`` (optionally only some roles, purposes and types), each cell
    compared with ``candidate`` when given."""
    columns = columns_of(policy, roles)
    if purposes is not None:
        wanted = {NO_PURPOSE if p in ("", NO_PURPOSE) else p for p in purposes}
        columns = tuple(c for c in columns if c.label in wanted)
    type_filter = None if types is None else frozenset(types)
    fields = tuple(
        sorted(
            c
            for c in catalog.classifications
            if type_filter is None or c.split(".", 1)[0] in type_filter
        )
    )
    cells: dict[tuple[str, Column], Cell] = {}
    for column in columns:
        live = {r.field: r for r in explain(catalog, policy, [column.role], column.purpose, fields)}
        shadow = _candidate_rows(catalog, candidate, column, fields)
        for coordinate in fields:
            row = live[coordinate]
            answer = None
            if shadow is not None:
                other = shadow.get(coordinate)
                answer = ROLE_ABSENT if other is None else outcome_text(other)
                answer = None if answer == outcome_text(row) else answer
            cells[(coordinate, column)] = Cell(row, answer)
    row_types = sorted({f.split(".", 1)[0] for f in fields} & catalog.row_types)
    scopes = {
        (role, type_name): tuple(sorted(s.value for s in policy.row_scopes([role], type_name)))
        for role in dict.fromkeys(c.role for c in columns)
        for type_name in row_types
    }
    return PolicyMatrix(
        policy_version=policy.version,
        candidate_version=None if candidate is None else candidate.version,
        columns=columns,
        fields=fields,
        levels={c: catalog.classifications[c].level for c in fields},
        cells=cells,
        row_scopes=scopes,
    )


def _candidate_rows(
    catalog: Catalog, candidate: Policy | None, column: Column, fields: Sequence[str]
) -> dict[str, ExplainRow] | None:
    if candidate is None:
        return None
    if column.role not in candidate.roles():
        return {}  # the role is gone from the candidate: every cell differs
    return {r.field: r for r in explain(catalog, candidate, [column.role], column.purpose, fields)}


CSV_HEADER = (
    "field",
    "level",
    "role",
    "purpose",
    "other",
    "own",
    "assigned",
    "mask",
    "reason",
    "rule",
    "candidate",
)


def matrix_csv(matrix: PolicyMatrix) -> str:
    """One line per field and column; ``candidate`` holds the shadow's differing answer."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for coordinate in matrix.fields:
        for column in matrix.columns:
            cell = matrix.cells[(coordinate, column)]
            row = cell.row
            writer.writerow(
                (
                    coordinate,
                    row.level.value,
                    column.role,
                    column.label,
                    row.other.value,
                    row.owner.value if row.owner else "",
                    row.assigned.value if row.assigned else "",
                    row.strategy.value if row.strategy else "",
                    row.reason.value if row.reason else "",
                    row.rule,
                    cell.candidate or "",
                )
            )
    return out.getvalue()
