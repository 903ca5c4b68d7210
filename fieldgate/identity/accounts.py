"""The accounts tokens are issued to: staff members, users and partners, found by name.

A name is looked up among staff usernames first, then user usernames, then partner names:
the first that has it is the account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import NotFound
from fieldgate.identity.tokens import subject_of
from fieldgate.models import Partner, Staff, User


@dataclass(frozen=True, slots=True)
class Account:
    """What a token is issued from: one row of staff, users or partners."""

    kind: PrincipalKind
    id: int
    name: str
    roles: tuple[str, ...]
    purposes: tuple[str, ...]  # empty: not limited by the account (staff and users)
    region: str | None
    usable: bool


async def find_account(session: AsyncSession, name: str) -> Account | None:
    """The staff member, user or partner named ``name``, looked up in that order."""
    staff = (await session.exec(select(Staff).where(Staff.username == name))).first()
    if staff is not None:
        return staff_account(staff)
    user = (await session.exec(select(User).where(User.username == name))).first()
    if user is not None:
        return user_account(user)
    partner = (await session.exec(select(Partner).where(Partner.name == name))).first()
    return None if partner is None else partner_account(partner)


async def subject_named(engine: AsyncEngine, name: str) -> str | None:
    """The ``sub`` (``kind:ID``) of the staff member, user or partner named ``name``."""
    async with AsyncSession(engine) as session:
        account = await find_account(session, name)
    return None if account is None else subject_of(account.kind, account.id)


def staff_account(row: Staff) -> Account:
    """The account of a staff row: its roles, active or not."""
    return Account(
        kind=PrincipalKind.STAFF,
        id=_id(row.id),
        name=row.username,
        roles=tuple(row.roles.split()),
        purposes=(),
        region=None,
        usable=row.active,
    )


def user_account(row: User) -> Account:
    """The account of a user row: role ``user``, usable until it is closed."""
    return Account(
        kind=PrincipalKind.USER,
        id=_id(row.id),
        name=row.username,
        roles=("user",),
        purposes=(),
        region=None,
        usable=row.closed_at is None,
    )


def partner_account(row: Partner) -> Account:
    """The account of a partner row: its kind as the role, its allowed purposes and region."""
    return Account(
        kind=PrincipalKind.PARTNER,
        id=_id(row.id),
        name=row.name,
        roles=(row.kind,),
        purposes=tuple(row.allowed_purposes.split()),
        region=row.region,
        usable=row.active,
    )


def _id(value: int | None) -> int:
    if value is None:  # rows read from the database always have one
        raise NotFound("the account has no id")
    return value
