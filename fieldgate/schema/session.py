"""The answer to ``login``: a token and when it expires."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="A signed-in session: send the token as `Authorization: Bearer`.")
class LoginResult:
    token: str
    expires_at: datetime = strawberry.field(description="After this the token is refused.")
