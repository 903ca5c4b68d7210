"""The classification of a schema field: level, mask strategy, allowed and prohibited purposes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from fieldgate.authz.masking import MaskStrategy


class Level(StrEnum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"
    PERSONAL = "PERSONAL"
    SENSITIVE = "SENSITIVE"


PERSONAL_LEVELS = frozenset({Level.PERSONAL, Level.SENSITIVE})


@dataclass(frozen=True, slots=True)
class Classification:
    """What the schema declares about one field coordinate (``Type.field``).

    ``purposes`` empty means any purpose (only for PUBLIC and INTERNAL fields);
    ``relation`` marks a field that leads to other rows: it has no mask (so only a FULL
    grant opens it), and the rows it leads to are disclosed by their own fields'
    classifications.
    """

    coordinate: str
    attribute: str
    level: Level
    mask: MaskStrategy | None = None
    purposes: frozenset[str] = frozenset()
    prohibits: frozenset[str] = frozenset()
    relation: bool = False
    nullable: bool = True

    @property
    def is_personal(self) -> bool:
        return self.level in PERSONAL_LEVELS


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the plan compiler needs to know about the schema, without importing it.

    ``attribute`` of a classification is the Python name under which a shaped row holds
    the field's value.

    ``classifications`` maps every field coordinate of a row type; ``row_types`` names the
    object types whose instances are rows (have a data subject); ``connections`` maps a
    connection type name to the row type of its nodes. ``argument_reads`` maps a field that
    takes arguments (``Query.orders``) to the field each argument reads (``status`` →
    ``Order.status``; ``None`` for an argument that reads none, such as ``first``).
    """

    classifications: dict[str, Classification]
    row_types: frozenset[str]
    connections: dict[str, str]
    argument_reads: dict[str, dict[str, str | None]] = field(default_factory=dict)
