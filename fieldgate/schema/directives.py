"""Schema directives: the classification of every field, and the operation's purpose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.directive import DirectiveLocation
from strawberry.schema_directive import Location

from fieldgate.authz.classification import Level
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.purposes import Purpose
from fieldgate.schema.argument_reads import reads_metadata

# The authorization vocabulary doubles as GraphQL enums (registered in place).
strawberry.enum(Level, name="Level", description="classification level of a field")
strawberry.enum(MaskStrategy, name="MaskStrategy", description="how a MASKED value is transformed")
strawberry.enum(Purpose, name="Purpose", description="why data is read")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="classified",
    description="The classification of a field: level, mask, allowed and prohibited purposes.",
)
class Classified:
    level: Level
    mask: MaskStrategy | None = None
    purposes: list[Purpose] = strawberry.field(default_factory=list)
    prohibits: list[Purpose] = strawberry.field(default_factory=list)
    relation: bool = False


@strawberry.directive(
    locations=[DirectiveLocation.QUERY, DirectiveLocation.MUTATION],
    name="purpose",
    description="Declares why the operation reads data (see the Purpose enum).",
)
def purpose(name: Purpose) -> None:  # pragma: no cover - read from the document, not executed
    """Marker directive; the disclosure extension reads it from the operation."""


def classified(
    level: Level,
    mask: MaskStrategy | None = None,
    purposes: tuple[Purpose, ...] | list[Purpose] = (),
    prohibits: tuple[Purpose, ...] | list[Purpose] = (),
    **field_kwargs: Any,
) -> Any:
    """A Strawberry field carrying its classification (a nullable value defaulting to None)."""
    field_kwargs.setdefault("default", None)
    return strawberry.field(
        directives=[
            Classified(level=level, mask=mask, purposes=list(purposes), prohibits=list(prohibits))
        ],
        **field_kwargs,
    )


def resolved(
    resolver: Any, *, reads: Mapping[str, str | None] | None = None, **field_kwargs: Any
) -> Any:
    """A field computed by ``resolver`` (typed loosely: resolvers return shaped dicts);
    ``reads`` declares the field each argument reads (``schema.argument_reads``)."""
    if reads is not None:
        field_kwargs["metadata"] = reads_metadata(reads)
    return strawberry.field(resolver=resolver, **field_kwargs)


def classified_relation(
    level: Level,
    purposes: tuple[Purpose, ...] | list[Purpose],
    resolver: Any,
    **field_kwargs: Any,
) -> Any:
    """A field leading to other rows; its own fields are disclosed by their classification."""
    return strawberry.field(
        resolver=resolver,
        directives=[Classified(level=level, purposes=list(purposes), relation=True)],
        **field_kwargs,
    )
