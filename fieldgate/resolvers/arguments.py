"""The checks every mutation applies to its arguments, and who may make it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from strawberry.types import Info

from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import BadUserInput, Forbidden, Unauthenticated
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]


USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MOBILE = re.compile(r"1[3-9]\d{9}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}")


def utc_now() -> datetime:
    """The current time in UTC (rows are stamped in UTC)."""
    return datetime.now(UTC)


def text_argument(
    value: str | None, name: str, limit: int, *, required: bool = False
) -> str | None:
    """``value`` stripped (None when empty), at most ``limit`` characters; else BadUserInput."""
    if value is None:
        if required:
            raise BadUserInput(f"{name} is required", argument=name)
        return None
    value = value.strip()
    if required and not value:
        raise BadUserInput(f"{name} must not be empty", argument=name)
    if len(value) > limit:
        raise BadUserInput(f"{name} is longer than {limit} characters", argument=name)
    return value or None


def phone_argument(value: str | None, name: str = "phone") -> str | None:
    """``value`` stripped when it is a mainland mobile number; else BadUserInput."""
    if value is not None and not MOBILE.fullmatch(value.strip()):
        raise BadUserInput(f"{name} must be a mainland mobile number", argument=name)
    return value.strip() if value is not None else None


def email_argument(value: str | None, name: str = "email") -> str | None:
    """``value`` stripped when it looks like an e-mail address; else BadUserInput."""
    if value is not None and not EMAIL.fullmatch(value.strip()):
        raise BadUserInput(f"{name} is not an e-mail address", argument=name)
    return value.strip() if value is not None else None


def require_user(info: Ctx) -> int:
    """The caller's user id; Unauthenticated when anonymous, Forbidden when not a user."""
    principal = info.context.principal
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated("login_required", "this operation needs a signed-in user")
    if principal.user_id is None:
        raise Forbidden("only users can do this")
    return principal.user_id
