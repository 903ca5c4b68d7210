"""The checks every mutation applies to its arguments, and who may make it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from strawberry.types import Info

from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import BadUserInput, Forbidden, Unauthenticated
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]


# Formats name their characters: ``\d`` would also match Arabic-Indic or Devanagari digits.
USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MOBILE = re.compile(r"1[3-9][0-9]{9}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,}", re.ASCII)
EMAIL_MAX = 254  # RFC 5321's path limit, within the 255 of the columns
ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"  # GB 11643: ISO 7064 MOD 11-2


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
    if value is not None and not (
        len(value.strip()) <= EMAIL_MAX and EMAIL.fullmatch(value.strip())
    ):
        raise BadUserInput(f"{name} is not an e-mail address", argument=name)
    return value.strip() if value is not None else None


def id_number_argument(value: str | None, name: str = "idNumber") -> str | None:
    """``value`` stripped when it is a resident ID number whose check character is right;
    else BadUserInput (the message never repeats the number)."""
    if value is None:
        return None
    number = value.strip()
    if not ID_NUMBER.fullmatch(number):
        raise BadUserInput(f"{name} must be an 18-character ID number", argument=name)
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False))
    if _ID_CHECK_CHARS[total % 11] != number[17]:
        raise BadUserInput(f"{name} has a wrong check character", argument=name)
    return number


def require_user(info: Ctx) -> int:
    """The caller's user id; Unauthenticated when anonymous, Forbidden when not a user."""
    principal = info.context.principal
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated("login_required", "this operation needs a signed-in user")
    if principal.user_id is None:
        raise Forbidden("only users can do this")
    return principal.user_id
