"""The work list of one producer's rows, derived once per request from the plan's rules.

A shaper sorts a producer's attributes by what each row needs: decrypted, masked, decided
per row (conditional), denied outright, audited when disclosed in FULL, gated by the data
subject's say; and whether the rows' subject facts must be known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fieldgate.authz.decisions import Disclosure, FieldRule, Outcome
from fieldgate.authz.masking import MaskFunction, MaskStrategy
from fieldgate.authz.plans import Producer
from fieldgate.errors import FieldgateError

MaskResolver = Callable[[MaskStrategy, str], MaskFunction]
"""(strategy, field coordinate) -> the mask function for this request's principal."""


@dataclass(frozen=True, slots=True)
class CoordinateKinds:
    """What a request's disclosure knows of coordinates beyond their rules."""

    relations: frozenset[str] = frozenset()  # relation fields: resolved, not shaped
    sensitive: frozenset[str] = frozenset()  # SENSITIVE: FULL disclosures are audited
    encrypted: frozenset[str] = frozenset()  # stored encrypted: opened only when read
    personal: frozenset[str] = frozenset()  # PERSONAL or SENSITIVE: the gates apply
    child_sensitive: frozenset[str] = frozenset()  # PERSONAL level: SENSITIVE for a child


@dataclass(slots=True)
class Shaper:
    """The per-producer work list."""

    decrypted: list[str] = field(default_factory=list)
    masked: list[tuple[str, MaskFunction, str]] = field(default_factory=list)
    conditional: list[tuple[str, FieldRule]] = field(default_factory=list)
    denied: list[tuple[str, Outcome]] = field(default_factory=list)
    audited_full: list[str] = field(default_factory=list)
    gated: list[tuple[str, str]] = field(default_factory=list)
    # PERSONAL attributes FULL on every row: audited on a child's rows
    child_full: list[tuple[str, str]] = field(default_factory=list)
    # conditional rules whose FULL is audited: on SENSITIVE fields, or on a child's rows
    watched: frozenset[str] = frozenset()
    needs_facts: bool = False
    relations: frozenset[str] = frozenset()


def shaper_for(
    producer: Producer,
    kinds: CoordinateKinds,
    masks: MaskResolver,
    *,
    gated: bool,
    can_decrypt: bool,
) -> Shaper:
    """The work list of ``producer``'s rows; ``gated`` when the request has active gates."""
    shaper = Shaper()
    relations = set()
    watched = set()
    child_sensitive = kinds.child_sensitive
    for attribute, rule in producer.rules.items():
        coordinate = rule.coordinate
        if coordinate in kinds.encrypted:
            if not can_decrypt:
                raise FieldgateError("encrypted fields cannot be read")
            shaper.decrypted.append(attribute)
        if coordinate in kinds.relations:
            relations.add(attribute)
        elif not rule.is_static:
            shaper.conditional.append((attribute, rule))
            if coordinate in kinds.sensitive or (
                coordinate in child_sensitive
                and any(o.disclosure is Disclosure.FULL for o in rule.possible())
            ):
                watched.add(coordinate)
                shaper.needs_facts |= coordinate in child_sensitive
        elif rule.default.disclosure is Disclosure.MASKED:
            strategy = rule.default.strategy
            assert strategy is not None
            shaper.masked.append((attribute, masks(strategy, coordinate), coordinate))
        elif rule.default.disclosure is Disclosure.DENIED:
            shaper.denied.append((attribute, rule.default))
        elif coordinate in kinds.sensitive:
            shaper.audited_full.append(coordinate)
        elif coordinate in child_sensitive:
            shaper.child_full.append((attribute, coordinate))
        if (
            gated
            and coordinate in kinds.personal
            and coordinate not in kinds.relations
            and not (rule.is_static and rule.default.disclosure is Disclosure.DENIED)
        ):
            shaper.gated.append((attribute, coordinate))
    shaper.relations = frozenset(relations)
    shaper.watched = frozenset(watched)
    shaper.needs_facts |= bool(shaper.gated or shaper.child_full)
    return shaper
