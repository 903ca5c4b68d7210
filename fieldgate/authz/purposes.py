"""The purpose vocabulary and hierarchy, loaded from ``purposes.toml`` in the policy folder."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldgate.authz.deidentification import Deidentification, load_deidentification
from fieldgate.errors import PolicyError


class Purpose(StrEnum):
    """The fixed vocabulary (DESIGN.md "Purposes"); the data file gives its shape."""

    ACCOUNT = "ACCOUNT"
    ORDER_FULFILLMENT = "ORDER_FULFILLMENT"
    PAYMENT = "PAYMENT"
    DELIVERY = "DELIVERY"
    INVOICING = "INVOICING"
    CUSTOMER_SUPPORT = "CUSTOMER_SUPPORT"
    IDENTITY_VERIFICATION = "IDENTITY_VERIFICATION"
    LEARNING = "LEARNING"
    PERSONALISATION = "PERSONALISATION"
    SECURITY = "SECURITY"
    ANALYTICS = "ANALYTICS"
    MARKETING = "MARKETING"
    LEGAL = "LEGAL"
    RESEARCH = "RESEARCH"
    RIGHTS = "RIGHTS"
    COMPLIANCE = "COMPLIANCE"


DEFAULT_DELIVERY_DAYS = 30


@dataclass(frozen=True, slots=True)
class PurposeVocabulary:
    """Parents, consent requirements and operator prohibitions of every purpose, how long a
    delivery keeps its order in the logistics partner's reach, and the de-identification
    rules of the purposes that receive de-identified data only."""

    parents: Mapping[str, str | None]
    needs_consent: frozenset[str]
    prohibitions: Mapping[str, frozenset[str]]
    descriptions: Mapping[str, str] = field(default_factory=dict)  # from purposes.toml
    # days after delivery a routed order stays visible to its logistics partner
    delivery_days: int = DEFAULT_DELIVERY_DAYS
    deidentification: Deidentification = field(default_factory=Deidentification)

    def lineage(self, purpose: str) -> tuple[str, ...]:
        """The purpose and its ancestors, nearest first."""
        chain: list[str] = []
        current: str | None = purpose
        while current is not None:
            chain.append(current)
            current = self.parents.get(current)
        return tuple(chain)

    def covers(self, granted: Iterable[str], purpose: str) -> bool:
        """True when ``purpose`` is one of ``granted`` or a descendant of one."""
        granted_set = set(granted)
        return any(p in granted_set for p in self.lineage(purpose))

    def children(self, purpose: str) -> tuple[str, ...]:
        return tuple(p for p, parent in self.parents.items() if parent == purpose)

    def descendants(self, purpose: str) -> tuple[str, ...]:
        found: list[str] = []
        for child in self.children(purpose):
            found.append(child)
            found.extend(self.descendants(child))
        return tuple(found)

    def check(self, purpose: str, where: str) -> str:
        if purpose not in self.parents:
            raise PolicyError(f"unknown purpose {purpose!r} in {where}")
        return purpose


def load_purposes(policy_dir: Path) -> PurposeVocabulary:
    """Read and validate ``purposes.toml``: every purpose of the vocabulary, no other."""
    path = policy_dir / "purposes.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read {path.name}: {exc}") from None
    entries = data.get("purposes", {})
    names = set(entries)
    known = {p.value for p in Purpose}
    if names != known:
        missing, extra = sorted(known - names), sorted(names - known)
        raise PolicyError(f"{path.name}: missing purposes {missing}, unknown purposes {extra}")
    parents: dict[str, str | None] = {}
    for name, entry in entries.items():
        parent = entry.get("parent")
        if parent is not None and parent not in known:
            raise PolicyError(f"{path.name}: purpose {name} has unknown parent {parent!r}")
        parents[name] = parent
    cycle = _first_cycle(parents)
    if cycle:  # lineage() would follow it for ever
        raise PolicyError(f"{path.name}: the purpose hierarchy has a cycle: {' -> '.join(cycle)}")
    vocabulary = PurposeVocabulary(
        parents=parents,
        needs_consent=frozenset(n for n, e in entries.items() if e.get("consent", False)),
        prohibitions={},
    )
    prohibitions = {
        coordinate: frozenset(vocabulary.check(p, f"{path.name} [prohibitions]") for p in listed)
        for coordinate, listed in data.get("prohibitions", {}).items()
    }
    section = data.get("deidentification", {})
    if not isinstance(section, dict):
        raise PolicyError(f"{path.name}: [deidentification] must be a table")
    return PurposeVocabulary(
        parents=parents,
        needs_consent=vocabulary.needs_consent,
        prohibitions=prohibitions,
        descriptions={name: str(entry.get("description", "")) for name, entry in entries.items()},
        delivery_days=_delivery_days(data, path.name),
        deidentification=load_deidentification(section, known, f"{path.name} [deidentification]"),
    )


def _first_cycle(parents: Mapping[str, str | None]) -> list[str]:
    """The first cycle of parent links, in sorted order of purposes, as a closed path
    (``A -> B -> A``); empty when the hierarchy is a forest."""
    for start in sorted(parents):
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in path:
            path.append(current)
            current = parents.get(current)
        if current is not None:
            return [*path[path.index(current) :], current]
    return []


def _delivery_days(data: Mapping[str, Any], where: str) -> int:
    """``[delivery] days_after_delivery``: a whole number of days, 0 or more."""
    section = data.get("delivery", {})
    days = (
        section.get("days_after_delivery", DEFAULT_DELIVERY_DAYS)
        if isinstance(section, dict)
        else None
    )
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise PolicyError(f"{where}: [delivery] days_after_delivery must be a whole number of days")
    return days
