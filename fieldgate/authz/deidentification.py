"""De-identified purposes: a minimum group size for quasi-identifiers, and minors' rows.

For the purposes listed in ``purposes.toml`` ``[deidentification]`` (``ANALYTICS`` in the
packaged policy), a data subject's quasi-identifiers (birth year, gender, province: the
values the recipient receives, generalised) are withheld, ``DENIED`` with reason
``K_ANONYMITY``, when fewer than ``k`` data subjects share that combination; and a minor's
personal values are withheld unless a guardian consented to that purpose.

The engine only decides. The group sizes are counted by the caller over every data
subject (``fieldgate.resolvers.groups``) with :func:`group_key`, and reach the gates as a
fact of each subject (``SubjectFacts.group_size``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from fieldgate.authz.masking import (
    MaskStrategy,
    mask_date_month,
    mask_date_year,
    mask_region_province,
)
from fieldgate.errors import PolicyError

DEFAULT_K: Final = 10
DEFAULT_REFRESH_SECONDS: Final = 300
# The masks that generalise a value (the others hide it): a group is counted on the
# generalised value, which is what a de-identified purpose receives.
GENERALISING: Final = frozenset(
    {MaskStrategy.DATE_YEAR, MaskStrategy.DATE_MONTH, MaskStrategy.REGION_PROVINCE}
)
# Masks made for de-identified purposes only: elsewhere a masked grant on a field with one
# of them discloses nothing (NO_MASK), as it did before the field had a mask.
STATISTICAL_MASKS: Final = frozenset({MaskStrategy.DATE_MONTH, MaskStrategy.REGION_PROVINCE})


@dataclass(frozen=True, slots=True)
class Deidentification:
    """The de-identification rules of the policy."""

    purposes: frozenset[str] = frozenset()
    k: int = DEFAULT_K
    quasi_identifiers: tuple[str, ...] = ()  # coordinates of the subject's own row (User.*)
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS  # how old the counted group sizes may be

    def covers(self, lineage: Sequence[str]) -> str | None:
        """The de-identified purpose among a purpose and its ancestors, if any."""
        return next((p for p in lineage if p in self.purposes), None)


def load_deidentification(
    section: Mapping[str, Any], known_purposes: set[str], where: str
) -> Deidentification:
    """The ``[deidentification]`` table of ``purposes.toml``; ``PolicyError`` naming the
    problem when it is malformed."""
    if not section:
        return Deidentification()
    purposes = section.get("purposes", [])
    k = section.get("k", DEFAULT_K)
    identifiers = section.get("quasi_identifiers", [])
    refresh = section.get("refresh_seconds", DEFAULT_REFRESH_SECONDS)
    if not isinstance(purposes, list) or not all(p in known_purposes for p in purposes):
        raise PolicyError(f"{where}: purposes must list known purposes")
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise PolicyError(f"{where}: k must be an integer of at least 2")
    if not isinstance(identifiers, list) or not all(
        isinstance(c, str) and c.startswith("User.") for c in identifiers
    ):
        raise PolicyError(f"{where}: quasi_identifiers must list User fields (User.birthDate)")
    if not isinstance(refresh, int) or isinstance(refresh, bool) or refresh < 1:
        raise PolicyError(f"{where}: refresh_seconds must be a positive integer")
    return Deidentification(frozenset(purposes), k, tuple(identifiers), refresh)


def generalised(value: object, strategy: MaskStrategy | None) -> object:
    """``value`` as a group is counted on: generalised by a generalising mask, else itself
    (text compared without surrounding whitespace)."""
    if value is None:
        return None
    if strategy is MaskStrategy.DATE_YEAR and isinstance(value, date | datetime | str):
        return str(mask_date_year(value))[:4]
    if strategy is MaskStrategy.DATE_MONTH and isinstance(value, date | datetime | str):
        return str(mask_date_month(value))[:7]
    if strategy is MaskStrategy.REGION_PROVINCE:
        return mask_region_province(value if isinstance(value, str) else str(value))
    return value.strip() if isinstance(value, str) else value


def group_key(
    values: Sequence[object], strategies: Sequence[MaskStrategy | None]
) -> tuple[object, ...]:
    """The combination of quasi-identifiers one data subject is counted under."""
    return tuple(
        generalised(value, strategy if strategy in GENERALISING else None)
        for value, strategy in zip(values, strategies, strict=True)
    )
