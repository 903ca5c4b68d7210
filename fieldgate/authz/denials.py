"""Denials: what a request's disclosure withheld, one record per denied selection.

A denied field selection is reported once, not once per value: at the first value it
nulled, with how many it nulled (``count``). The records are plain data; the GraphQL layer
turns them into errors (``fieldgate.schema.denials``) and the audit trail reads their
reasons from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fieldgate.authz.decisions import DenialReason, Outcome
from fieldgate.authz.plans import INDEX, PathKey, Producer


class ResponsePath(Protocol):
    """A place in the response, innermost key first (a resolver's ``info.path``)."""

    @property
    def key(self) -> str | int: ...

    @property
    def prev(self) -> ResponsePath | None: ...

    def as_list(self) -> list[str | int]: ...


def path_key(path: ResponsePath | None) -> PathKey:
    """The response keys of a path, without list indices, root first."""
    keys: list[str] = []
    while path is not None:
        if isinstance(path.key, str):
            keys.append(path.key)
        path = path.prev
    keys.reverse()
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Denial:
    """One denied field selection: where it first nulled a value, why, and how often."""

    coordinate: str
    path: list[str | int]
    purpose: str | None
    reason: DenialReason | None
    code: str
    count: int


@dataclass(slots=True)
class _Tally:
    coordinate: str
    outcome: Outcome
    first_path: list[str | int]
    count: int = 0


class Denials:
    """The denials of one request, counted per (producer, selection, reason)."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[PathKey, str, str | None], _Tally] = {}

    def __bool__(self) -> bool:
        return bool(self._tallies)

    def of_attribute(
        self,
        producer: Producer,
        path: ResponsePath,
        index: int,
        attribute: str,
        outcome: Outcome,
        count: int,
    ) -> None:
        """``count`` values of ``attribute`` denied in the rows ``producer`` made at ``path``,
        the first at row ``index``: counted against every selection of the attribute."""
        for selection in producer.selections:
            if selection.attribute != attribute:
                continue
            key = (producer.key, selection.response_key, outcome.reason)
            tally = self._tallies.get(key)
            if tally is None:
                prefix = [index if part == INDEX else part for part in producer.row_prefix]
                first = [*path.as_list(), *prefix, selection.response_key]
                tally = _Tally(selection.coordinate, outcome, first)
                self._tallies[key] = tally
            tally.count += count

    def at(self, path: ResponsePath, coordinate: str, outcome: Outcome) -> None:
        """One value denied at ``path`` itself (a relation not followed)."""
        key = (path_key(path)[:-1], str(path.key), outcome.reason)
        tally = self._tallies.get(key)
        if tally is None:
            tally = _Tally(coordinate, outcome, path.as_list())
            self._tallies[key] = tally
        tally.count += 1

    def coordinates(self) -> set[str]:
        """The coordinates denied at least once."""
        return {tally.coordinate for tally in self._tallies.values()}

    def records(self, purpose: str | None) -> list[Denial]:
        """One record per denied selection, in the order they were first met."""
        return [
            Denial(
                coordinate=tally.coordinate,
                path=tally.first_path,
                purpose=purpose,
                reason=tally.outcome.reason,
                code=tally.outcome.code,
                count=tally.count,
            )
            for tally in self._tallies.values()
        ]
