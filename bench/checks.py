"""Sanity checks on every pair of responses: both have data, and the engine really ran.

"On" and "off" responses of one round read the same rows in the same order, so they are
compared value by value: a masked value must differ from the full one, a denied value
must be null, and "off" must report nothing withheld.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

from strawberry.types import ExecutionResult

from bench.workloads import Workload

FORBIDDEN_FIELD = "FORBIDDEN_FIELD"


class BenchAborted(Exception):
    """A response is not what the benchmark measures; the numbers would mean nothing."""


def check_round(workload: Workload, on: ExecutionResult, off: ExecutionResult) -> int:
    """Check one "on" and one "off" response of ``workload``; the number of rows each has."""
    on_data = _data(workload, "on", on)
    off_data = _data(workload, "off", off)
    _check_off(workload, off)
    disclosure = _disclosure(workload, "on", on)
    if disclosure.get("purpose") != workload.purpose:
        _abort(
            workload, f"'on' ran for purpose {disclosure.get('purpose')}, not {workload.purpose}"
        )
    codes = {(e.extensions or {}).get("code") for e in on.errors or ()}
    if codes - {FORBIDDEN_FIELD}:
        _abort(workload, f"'on' has errors with codes {sorted(map(str, codes))}")
    rows = count_rows(on_data)
    if rows == 0 or rows != count_rows(off_data):
        _abort(workload, f"'on' has {rows} rows and 'off' {count_rows(off_data)}")
    if workload.masks:
        _check_masked(workload, _field_names(disclosure, "masked"), on_data, off_data)
    if workload.denies:
        if FORBIDDEN_FIELD not in codes:
            _abort(workload, "'on' has no FORBIDDEN_FIELD error")
        _check_denied(workload, _field_names(disclosure, "denied"), on_data, off_data)
    return rows


def count_rows(data: Mapping[str, Any]) -> int:
    """Rows in the response: the edges of a connection at the root, else non-null roots."""
    rows = 0
    for value in data.values():
        if isinstance(value, Mapping) and isinstance(value.get("edges"), list):
            rows += len(value["edges"])
        elif value is not None:
            rows += 1
    return rows


def _check_off(workload: Workload, off: ExecutionResult) -> None:
    if off.errors:
        _abort(workload, f"'off' has {len(off.errors)} errors")
    disclosure = _disclosure(workload, "off", off)
    if disclosure.get("masked") or disclosure.get("denied"):
        _abort(workload, "'off' reports masked or denied fields: disclosure is not switched off")


def _check_masked(
    workload: Workload, names: frozenset[str], on: Mapping[str, Any], off: Mapping[str, Any]
) -> None:
    if not names:
        _abort(workload, "'on' reports no masked field")
    compared = 0
    for name, masked, full in _pairs(on, off, names):
        if full is None:
            continue
        if masked == full:
            _abort(workload, f"'on' returned {name} unmasked")
        compared += 1
    if compared == 0:
        _abort(workload, "'on' has no masked value")


def _check_denied(
    workload: Workload, names: frozenset[str], on: Mapping[str, Any], off: Mapping[str, Any]
) -> None:
    if not names:
        _abort(workload, "'on' reports no denied field")
    for name, denied, _ in _pairs(on, off, names):
        if denied is not None:
            _abort(workload, f"'on' returned a value for denied {name}")


def _pairs(on: Any, off: Any, names: frozenset[str]) -> Iterator[tuple[str, Any, Any]]:
    """``(field, on value, off value)`` for every field called one of ``names``."""
    if isinstance(on, Mapping) and isinstance(off, Mapping):
        for key, value in on.items():
            if key in names:
                yield key, value, off.get(key)
            else:
                yield from _pairs(value, off.get(key), names)
    elif isinstance(on, list) and isinstance(off, list):
        for on_item, off_item in zip(on, off, strict=False):
            yield from _pairs(on_item, off_item, names)


def _field_names(disclosure: Mapping[str, Any], outcome: str) -> frozenset[str]:
    # Coordinates are "Type.field"; in the response a field appears under its name.
    return frozenset(c.rpartition(".")[2] for c in disclosure.get(outcome) or ())


def _data(workload: Workload, mode: str, result: ExecutionResult) -> Mapping[str, Any]:
    if not result.data:
        codes = sorted({str((e.extensions or {}).get("code")) for e in result.errors or ()})
        _abort(workload, f"'{mode}' has no data (error codes {codes})")
    return result.data


def _disclosure(workload: Workload, mode: str, result: ExecutionResult) -> Mapping[str, Any]:
    disclosure = (result.extensions or {}).get("disclosure")
    if not isinstance(disclosure, Mapping):
        _abort(workload, f"'{mode}' has no extensions.disclosure: the engine did not run")
    return disclosure


def _abort(workload: Workload, problem: str) -> NoReturn:
    raise BenchAborted(f"{workload.name}: {problem}")
