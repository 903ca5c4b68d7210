"""Leaves on the compiled path: each scalar read and coerced inline, with no call at all
when the value already has the built-in scalar's own Python class (and range)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLLeafType, Undefined, specified_scalar_types
from graphql.pyutils import Path

from fieldgate.schema.compiled_run import Bailout, Completer, Run

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_FAST_CLASS: Mapping[str, type] = {"String": str, "ID": str, "Boolean": bool, "Int": int}


def coercer(leaf: GraphQLLeafType, non_null: bool) -> Callable[[Any], Any]:
    coerce = leaf.coerce_output_value

    def coerced(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Bailout(f"null for non-null {leaf.name}")
            return None
        out = coerce(value)
        if out is Undefined or out is None:
            raise Bailout(f"{leaf.name} cannot represent the value")
        return out

    return coerced


def leaf_expression(
    variable: str, leaf: GraphQLLeafType, index: int, namespace: dict[str, Any], non_null: bool
) -> str:
    """The inline expression for one leaf: no call when the value already has the scalar's
    own Python class (and range), the scalar's coercion otherwise."""
    coerce = f"C{index}"
    namespace[coerce] = coercer(leaf, non_null)
    fast = _FAST_CLASS.get(leaf.name) if _is_builtin(leaf) else None
    if fast is None:
        if non_null:
            return f"{coerce}({variable})"
        return f"(None if {variable} is None else {coerce}({variable}))"
    namespace[f"F{index}"] = fast
    test = f"{variable}.__class__ is F{index}"
    if fast is int:
        test += f" and {INT_MIN} <= {variable} <= {INT_MAX}"
    if non_null:
        return f"({variable} if {test} else {coerce}({variable}))"
    # a nullable field's null (a withheld value) needs no call either
    return f"({variable} if {test} else None if {variable} is None else {coerce}({variable}))"


def _is_builtin(leaf: GraphQLLeafType) -> bool:
    return specified_scalar_types.get(leaf.name) is leaf


def leaf_completer(leaf: GraphQLLeafType, *, non_null: bool) -> Completer:
    coerce = coercer(leaf, non_null)

    def leaf_value(value: Any, path: Path | None, run: Run) -> Any:
        return coerce(value)

    return Completer(leaf_value, is_async=False)
