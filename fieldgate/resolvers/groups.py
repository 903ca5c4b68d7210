"""Group sizes for the minimum-group rule of de-identified purposes (``K_ANONYMITY``).

Every user whose values a de-identified purpose may receive (adults, and minors with a
guardian's consent to that purpose) is counted under the combination of quasi-identifiers
the purpose receives (``fieldgate.authz.deidentification.group_key``), from the database,
in one query over the users table; the others count in no group. The counts are kept in
this process, per purpose, and recounted when older than ``refresh_seconds`` of the
policy: every process and instance recounts on its own clock, so a change in the data
reaches all of them within that time; nothing needs to be invalidated. One request at a
time recounts; the others wait for it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fieldgate.authz.classification import Catalog
from fieldgate.authz.consent import ADULT_AGE, age_on
from fieldgate.authz.deidentification import Deidentification, group_key
from fieldgate.crypto.encrypted import ENCRYPTED_COORDINATES
from fieldgate.errors import SchemaMisdeclared
from fieldgate.models.tables import consents, users
from fieldgate.resolvers.sources import SOURCES


class QuasiIdentifierGroups:
    """Per user id, how many users share their quasi-identifiers (a cached count)."""

    def __init__(
        self,
        rules: Deidentification,
        catalog: Catalog,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        source = SOURCES["User"]
        columns = []
        strategies = []
        for coordinate in rules.quasi_identifiers:
            classification = catalog.classifications.get(coordinate)
            if classification is None or classification.attribute not in source.columns:
                raise SchemaMisdeclared(f"quasi-identifier {coordinate} is not a User column")
            if coordinate in ENCRYPTED_COORDINATES:
                raise SchemaMisdeclared(f"quasi-identifier {coordinate} is stored encrypted")
            columns.append(source.columns[classification.attribute])
            strategies.append(classification.mask)
        guarded = select(consents.c.user_id).where(
            and_(
                consents.c.purpose == bindparam("purpose"),
                consents.c.guardian_consent.is_(True),
                consents.c.withdrawn_at.is_(None),
            )
        )
        self._statement = (
            select(users.c.id, users.c.birth_date, users.c.id.in_(guarded), *columns)
            if columns
            else None
        )
        self._strategies = tuple(strategies)
        self.refresh_seconds = rules.refresh_seconds
        self._clock = clock
        self._counts: dict[str, tuple[float, Mapping[int, int]]] = {}
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def invalidate(self) -> None:
        """Recount on the next request (tests, and after this process changed users)."""
        self._counts.clear()

    def _fresh(self, purpose: str) -> Mapping[int, int] | None:
        found = self._counts.get(purpose)
        if found is None or self._clock() - found[0] >= self.refresh_seconds:
            return None
        return found[1]

    async def sizes(self, engine: AsyncEngine, purpose: str) -> Mapping[int, int]:
        """User id -> size of their group for ``purpose``; recounted first when the counts
        are too old. A user not counted is absent."""
        sizes = self._fresh(purpose)
        if sizes is not None:
            return sizes
        async with self._lock_of(asyncio.get_running_loop()):
            sizes = self._fresh(purpose)
            if sizes is None:
                sizes = await self._count(engine, purpose)
                self._counts[purpose] = (self._clock(), sizes)
        return sizes

    def _lock_of(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        # a lock belongs to one event loop; a process normally has one
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _count(self, engine: AsyncEngine, purpose: str) -> Mapping[int, int]:
        if self._statement is None:
            return {}
        async with engine.connect() as connection:
            rows = (await connection.execute(self._statement, {"purpose": purpose})).all()
        today = datetime.now(UTC).date()
        keys = {}
        for subject, born, guarded, *values in rows:
            age = age_on(born, today)
            if age is not None and age < ADULT_AGE and not guarded:
                continue  # a minor without a guardian's consent: nothing of theirs is received
            keys[subject] = group_key(values, self._strategies)
        counts = Counter(keys.values())
        return {subject: counts[key] for subject, key in keys.items()}
