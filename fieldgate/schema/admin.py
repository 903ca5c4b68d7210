"""Types of the administration fields: tokens and trusted documents.

They are not row types: nothing here is personal data, and only principals the policy lets
``manage`` tokens reach them, so they carry no classification. Like every row, their values
are dicts read by the schema's default resolver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from fieldgate.models import IssuedToken
from fieldgate.resolvers.admin import IssuedGrant, TokenPage


@strawberry.type(description="A token just issued. Its text is shown once, here only.")
class IssuedTokenInfo:
    token: str
    jti: strawberry.ID
    subject: str
    expires_at: datetime


@strawberry.type(description="A recorded token, without its text.")
class IssuedTokenRecord:
    jti: strawberry.ID
    subject: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@strawberry.type(description="Recorded tokens, newest first; pass endCursor as after.")
class IssuedTokenPage:
    nodes: list[IssuedTokenRecord]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def issued_token_info(grant: IssuedGrant) -> dict[str, Any]:
    """The ``IssuedTokenInfo`` of a grant."""
    return {
        "token": grant.token,
        "jti": grant.jti,
        "subject": grant.subject,
        "expires_at": grant.expires_at,
    }


def issued_token_record(record: IssuedToken) -> dict[str, Any]:
    """The ``IssuedTokenRecord`` of an ``issued_tokens`` row (never the token's text)."""
    return {
        "jti": record.jti,
        "subject": record.subject,
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }


def issued_token_page(page: TokenPage) -> dict[str, Any]:
    """The ``IssuedTokenPage`` of a page."""
    return {
        "nodes": [issued_token_record(r) for r in page.nodes],
        "has_next_page": page.has_next_page,
        "end_cursor": page.end_cursor,
        "total_count": page.total_count,
    }
