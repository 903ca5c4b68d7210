"""Which document a request runs: automatic persisted queries and partners' trusted documents.

Runs where the view has parsed the HTTP request and before Strawberry parses the document:

- ``extensions.persistedQuery = {"version": 1, "sha256Hash": H}`` (Apollo's convention)
  with a query: the text must hash to ``H``, and it is stored after it passed parsing,
  validation and the limits; without a query: the stored text of ``H`` runs, or the request
  is refused with ``PERSISTED_QUERY_NOT_FOUND``;
- with trusted documents on, a partner runs only the documents registered for it
  (``DOCUMENT_NOT_ALLOWED`` otherwise); users and staff keep ad-hoc queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.http import GraphQLRequestData

from fieldgate.authz.digest import document_hash
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.documents.store import (
    SHA256_HEX,
    DocumentTexts,
    TrustedDocuments,
    remember_document,
)
from fieldgate.errors import (
    DocumentNotAllowed,
    PersistedQueryHashMismatch,
    PersistedQueryInvalid,
    PersistedQueryNotFound,
)

APQ_EXTENSION = "persistedQuery"
APQ_VERSION = 1


@dataclass(frozen=True, slots=True)
class ResolvedDocument:
    """The operation to run, and the hash to store its text under once it passed the guards."""

    request_data: GraphQLRequestData
    store_as: str | None = None


class DocumentGate:
    """Resolves persisted queries and holds partners to their trusted documents."""

    def __init__(self, engine: AsyncEngine, *, trusted: TrustedDocuments | None) -> None:
        self._engine = engine
        self._texts = DocumentTexts(engine)
        self._trusted = trusted

    async def resolve(self, principal: Principal, data: GraphQLRequestData) -> ResolvedDocument:
        """The request with its document text; raises a ``QueryRefused`` with a code."""
        wanted = _persisted_hash(data.extensions)
        query = data.query
        store_as: str | None = None
        if wanted is not None:
            if query is None:
                query = await self._texts.get(wanted)
                if query is None:
                    raise PersistedQueryNotFound("PersistedQueryNotFound")
                data = replace(data, query=query)
            elif document_hash(query) != wanted:
                raise PersistedQueryHashMismatch("the hash does not match the query text")
            else:
                store_as = wanted
        if self._trusted is not None and principal.kind is PrincipalKind.PARTNER:
            partner_id = principal.partner_id
            digest = wanted or (document_hash(query) if query is not None else None)
            if partner_id is None or digest is None:
                raise DocumentNotAllowed("this partner may run its registered documents only")
            if not await self._trusted.allows(partner_id, digest):
                raise DocumentNotAllowed("this partner may run its registered documents only")
        return ResolvedDocument(data, store_as)

    async def remember(self, principal: Principal, resolved: ResolvedDocument) -> None:
        """Store an automatic persisted query that passed parsing, validation and limits."""
        query = resolved.request_data.query
        if resolved.store_as is None or query is None:
            return
        await remember_document(
            self._engine, resolved.store_as, query, created_by=principal.identity
        )
        self._texts.keep(resolved.store_as, query)


def _persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """``H`` of ``extensions.persistedQuery``; None when the request carries none."""
    if not extensions or extensions.get(APQ_EXTENSION) is None:
        return None
    persisted = extensions[APQ_EXTENSION]
    if not isinstance(persisted, Mapping) or persisted.get("version") != APQ_VERSION:
        raise PersistedQueryInvalid('persistedQuery must be {"version": 1, "sha256Hash": …}')
    wanted = persisted.get("sha256Hash")
    if not isinstance(wanted, str) or not SHA256_HEX.fullmatch(wanted):
        raise PersistedQueryInvalid("sha256Hash must be 64 lowercase hexadecimal digits")
    return wanted
