"""Where an operation's values were masked or denied: the paths of ``extensions.disclosure``.

A frontend marks each withheld value in place from these entries. One entry stands for one
field selection under one list (or one object): its ``path`` has ``"*"`` where the row
index goes and ``rows`` lists the indices it applies to, so 71 masked phones of 100 rows
are one entry, not 71, and the rows shown in full are the ones not listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldgate.authz.decisions import Disclosure, Outcome
from fieldgate.authz.denials import ResponsePath
from fieldgate.authz.plans import INDEX, Producer

ROW = "*"  # stands for the row index in an entry's path


@dataclass(slots=True)
class _Entry:
    path: list[str | int]
    coordinate: str
    disclosure: Disclosure
    mask: str | None
    reason: str | None
    rows: list[int] = field(default_factory=list)
    count: int = 0


class DisclosureMarks:
    """Collects, per value, where a mask or a denial applied."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._keys: dict[tuple[Any, str], tuple[str, ...]] = {}
        self._last: tuple[ResponsePath | None, tuple[str | int, ...]] = (None, ())

    def _base(self, path: ResponsePath) -> tuple[str | int, ...]:
        last, base = self._last
        if last is not path:  # one shaping call marks many values under one path
            base = tuple(path.as_list())
            self._last = (path, base)
        return base

    def _response_keys(self, producer: Producer, attribute: str) -> tuple[str, ...]:
        key = (producer.key, attribute)
        found = self._keys.get(key)
        if found is None:
            found = tuple(s.response_key for s in producer.selections if s.attribute == attribute)
            self._keys[key] = found
        return found

    def mark(
        self,
        path: ResponsePath,
        producer: Producer,
        attribute: str,
        outcome: Outcome,
        index: int,
        count: int = 1,
    ) -> None:
        """Values of ``attribute`` in rows ``index`` … ``index + count - 1`` under ``path``
        were masked or denied as ``outcome`` says."""
        base = self._base(path)
        reason = outcome.reason.value if outcome.reason else None
        for response_key in self._response_keys(producer, attribute):
            key = (base, producer.key, response_key, outcome.disclosure, reason)
            entry = self._entries.get(key)
            if entry is None:
                prefix = [ROW if part == INDEX else part for part in producer.row_prefix]
                entry = _Entry(
                    [*base, *prefix, response_key],
                    producer.rules[attribute].coordinate,
                    outcome.disclosure,
                    outcome.strategy.value if outcome.strategy else None,
                    reason,
                )
                self._entries[key] = entry
            entry.rows.extend(range(index, index + count))
            entry.count += count

    def mark_at(self, path: list[str | int], coordinate: str, outcome: Outcome) -> None:
        """A value at one exact ``path`` (a relation not followed) was denied."""
        reason = outcome.reason.value if outcome.reason else None
        key = (tuple(path), coordinate, outcome.disclosure, reason)
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(list(path), coordinate, outcome.disclosure, None, reason)
            self._entries[key] = entry
        entry.count += 1

    def summary(self) -> list[dict[str, Any]]:
        """The entries, ordered by field and path: ``path`` (``"*"`` for the row index),
        ``rows`` (where the path has one), ``field``, ``disclosure``, ``mask``, ``reason``."""
        listed = []
        for entry in self._entries.values():
            item: dict[str, Any] = {
                "path": entry.path,
                "field": entry.coordinate,
                "disclosure": entry.disclosure.value,
                "mask": entry.mask,
                "reason": entry.reason,
                "count": entry.count,
            }
            if ROW in entry.path:
                item["rows"] = sorted(set(entry.rows))
            listed.append(item)
        listed.sort(key=lambda item: (item["field"], [str(p) for p in item["path"]]))
        return listed
