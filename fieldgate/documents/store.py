"""Registered GraphQL documents: persisted queries and the trusted documents of partners.

A document is addressed by the SHA-256 of its text. Every instance reads the same tables,
so a registration reaches them all; the per-partner allow list is cached in the process for
at most :data:`ALLOW_LIST_TTL` seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import LRUCache
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fieldgate.authz.digest import document_hash
from fieldgate.errors import BadUserInput, NotFound
from fieldgate.models.tables import partner_documents as partner_documents_table
from fieldgate.models.tables import partners as partners_table
from fieldgate.models.tables import persisted_documents as documents_table

ALLOW_LIST_TTL = 1.0  # seconds: a new registration reaches every instance this quickly
MAX_DOCUMENT_CHARS = 100 * 1024
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class RegisteredDocument:
    """A stored document as listed: its hash, name, who stored it and its partners."""

    sha256: str
    name: str | None
    created_at: datetime
    created_by: str
    partners: tuple[str, ...]


async def register_document(
    engine: AsyncEngine,
    document: str,
    *,
    created_by: str,
    name: str | None = None,
    partners: Sequence[str] = (),
) -> str:
    """Store ``document`` (if absent) and trust it for each partner named; its SHA-256.

    Registering again is fine: it adds the partners not yet trusted with it. An unknown
    partner name is ``NotFound`` and nothing is stored.
    """
    if not document.strip():
        raise BadUserInput("the document is empty", argument="document")
    if len(document) > MAX_DOCUMENT_CHARS:
        raise BadUserInput("the document is too long", argument="document")
    if name is not None and len(name) > 128:
        raise BadUserInput("name is longer than 128 characters", argument="name")
    digest = document_hash(document)
    async with engine.begin() as conn:
        partner_ids = await _partner_ids(conn, partners)
        await _insert_document(conn, digest, document, name, created_by)
        known = set(
            (
                await conn.execute(
                    select(partner_documents_table.c.partner_id).where(
                        partner_documents_table.c.sha256 == digest
                    )
                )
            ).scalars()
        )
        new = [{"partner_id": p, "sha256": digest} for p in partner_ids if p not in known]
        if new:
            await conn.execute(insert(partner_documents_table), new)
    return digest


async def remember_document(
    engine: AsyncEngine, digest: str, document: str, *, created_by: str
) -> bool:
    """Store a persisted query under its hash unless present; True when it was added.

    Two instances storing the same document at once is not an error: it is the same row.
    """
    try:
        async with engine.begin() as conn:
            return await _insert_document(conn, digest, document, None, created_by)
    except IntegrityError:  # another request stored it between our read and our write
        return False


async def find_document(engine: AsyncEngine, digest: str) -> str | None:
    """The text stored under ``digest``, or None."""
    query = select(documents_table.c.document).where(documents_table.c.sha256 == digest)
    async with engine.connect() as conn:
        found: str | None = (await conn.execute(query)).scalar()
    return found


async def partner_allow_list(engine: AsyncEngine, partner_id: int) -> frozenset[str]:
    """The hashes of the documents registered for one partner."""
    query = select(partner_documents_table.c.sha256).where(
        partner_documents_table.c.partner_id == partner_id
    )
    async with engine.connect() as conn:
        return frozenset((await conn.execute(query)).scalars())


async def list_documents(engine: AsyncEngine) -> list[RegisteredDocument]:
    """Every stored document, newest first, with the names of the partners trusting it."""
    documents = select(
        documents_table.c.sha256,
        documents_table.c.name,
        documents_table.c.created_at,
        documents_table.c.created_by,
    ).order_by(documents_table.c.created_at.desc(), documents_table.c.sha256)
    trusted = select(partner_documents_table.c.sha256, partners_table.c.name).join(
        partners_table, partners_table.c.id == partner_documents_table.c.partner_id
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(documents)).all()
        names: dict[str, list[str]] = {}
        for digest, partner in (await conn.execute(trusted)).all():
            names.setdefault(digest, []).append(partner)
    return [
        RegisteredDocument(
            sha256=row.sha256,
            name=row.name,
            created_at=row.created_at,
            created_by=row.created_by,
            partners=tuple(sorted(names.get(row.sha256, ()))),
        )
        for row in rows
    ]


class TrustedDocuments:
    """Per-partner allow lists, read from the database and kept for ``ttl`` seconds."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float = ALLOW_LIST_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        self._clock = clock
        self._lists: dict[int, tuple[float, frozenset[str]]] = {}

    async def allows(self, partner_id: int, digest: str) -> bool:
        """True when the document ``digest`` is registered for the partner."""
        now = self._clock()
        cached = self._lists.get(partner_id)
        if cached is None or now - cached[0] >= self._ttl:
            cached = (now, await partner_allow_list(self._engine, partner_id))
            self._lists[partner_id] = cached
        return digest in cached[1]


class DocumentTexts:
    """Persisted documents by hash; a document never changes, so hits are kept (LRU)."""

    def __init__(self, engine: AsyncEngine, *, capacity: int = 1024) -> None:
        self._engine = engine
        self._texts: LRUCache[str, str] = LRUCache(maxsize=capacity)

    async def get(self, digest: str) -> str | None:
        """The text of ``digest`` or None; misses are not kept (it may be stored later)."""
        text = self._texts.get(digest)
        if text is not None:
            return text
        text = await find_document(self._engine, digest)
        if text is not None:
            self.keep(digest, text)
        return text

    def keep(self, digest: str, text: str) -> None:
        """Remember a text known to be stored under ``digest``."""
        self._texts[digest] = text


async def _insert_document(
    conn: AsyncConnection, digest: str, document: str, name: str | None, created_by: str
) -> bool:
    query = select(documents_table.c.sha256).where(documents_table.c.sha256 == digest)
    if (await conn.execute(query)).first() is not None:
        return False
    row = {
        "sha256": digest,
        "document": document,
        "name": name,
        "created_at": datetime.now(UTC),
        "created_by": created_by[:64],
    }
    await conn.execute(insert(documents_table).values(**row))
    return True


async def _partner_ids(conn: AsyncConnection, names: Sequence[str]) -> list[int]:
    wanted = sorted(set(names))
    if not wanted:
        return []
    query = select(partners_table.c.name, partners_table.c.id).where(
        partners_table.c.name.in_(wanted)
    )
    found = {name: partner_id for name, partner_id in (await conn.execute(query)).all()}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise NotFound(f"no partner has the names {missing}")
    return [found[name] for name in wanted]
