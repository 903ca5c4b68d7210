"""Denials as GraphQL errors: one ``FORBIDDEN_FIELD`` (or the outcome's code) per denied
selection, at the first value it nulled, with how many values it nulled."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError

from fieldgate.authz.denials import Denial


def denial_error(denial: Denial) -> GraphQLError:
    """The error reporting one denied selection."""
    purpose = denial.purpose
    return GraphQLError(
        f"{denial.coordinate} is not disclosed"
        + (f" for purpose {purpose}" if purpose else " without a declared purpose"),
        path=denial.path,
        extensions={
            "code": denial.code,
            "field": denial.coordinate,
            "purpose": purpose,
            "reason": denial.reason.value if denial.reason else None,
            "count": denial.count,
        },
    )


def denial_errors(denials: Sequence[Denial]) -> list[GraphQLError]:
    """One error per denied selection, in the order they were met."""
    return [denial_error(denial) for denial in denials]
