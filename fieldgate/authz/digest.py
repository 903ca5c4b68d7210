"""The hash that names a GraphQL document: plan cache keys, audit events, persisted documents.

It lives in the engine, the lowest layer that needs it: plans are cached per document, and
every layer above (documents, http, schema) may import it from here.
"""

from __future__ import annotations

import hashlib


def document_hash(document: str) -> str:
    """The lowercase hex SHA-256 of a document's UTF-8 text."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()
