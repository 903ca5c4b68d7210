"""End users: profiles with real names, ID numbers, phones, addresses, and some minors."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from faker import Faker

from fieldgate.demo.identity_numbers import make_id_number, make_mobile
from fieldgate.demo.places import DISTRICTS, District, street_address
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import (
    EPOCH,
    PLATFORM_LAUNCH,
    age_on,
    birth_window,
    day_between,
    moment_between,
)

NAMED_USERS = ("alice", "bob")
_NAMED_EMAILS = ("alice@163.com", "bob@qq.com")
ADULT_BIRTHS = (date(1965, 1, 1), date(2005, 12, 31))
CHILD_SHARE = 0.02  # aged 10-13 on the epoch
TEEN_SHARE = 0.05  # aged 14-17 on the epoch
EMAIL_DOMAINS = (
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
    "139.com",
    "outlook.com",
)
EDUCATION_LEVELS = ("高中", "中专", "大专", "本科", "硕士", "博士")
_EDUCATION_WEIGHTS = (8, 6, 25, 45, 14, 2)
_NICKNAME_ADJECTIVES = (
    "努力的",
    "快乐的",
    "早起的",
    "爱学习的",
    "冲刺中的",
    "稳稳上岸的",
    "不熬夜的",
)
_NICKNAME_NOUNS = ("小鱼", "考生", "打工人", "学霸", "橘子", "土豆", "备考人", "追梦人")


@dataclass(frozen=True, slots=True)
class Person:
    """What later steps (orders, tickets, consents, devices) need of a user."""

    id: int
    username: str
    nickname: str
    real_name: str | None
    phone: str
    email: str | None
    id_number: str | None
    birth_date: date
    home: District
    address: str
    created_at: datetime
    verified_at: datetime | None
    guardian_name: str | None

    @property
    def age(self) -> int:
        return age_on(self.birth_date)

    @property
    def minor(self) -> bool:
        return self.age < 18


def _birth_windows(rng: random.Random, count: int) -> list[tuple[date, date]]:
    """Each user's window of birth dates: about 2% children aged 10-13, 5% teenagers aged
    14-17, the rest adults born 1965-2005.

    The shares are exact (at least one of each) so that small data sets have minors too;
    the named users are always adults.
    """
    windows = [ADULT_BIRTHS] * count
    children = max(1, round(count * CHILD_SHARE))
    teenagers = max(1, round(count * TEEN_SHARE))
    minors = rng.sample(range(len(NAMED_USERS), count), children + teenagers)
    for position, index in enumerate(minors):
        windows[index] = birth_window(10, 13) if position < children else birth_window(14, 17)
    return windows


def _username(rng: random.Random, fake: Faker, taken: set[str]) -> str:
    name = str(fake.user_name())
    while name in taken or name in NAMED_USERS:
        name = f"{name}{rng.randint(0, 9)}"
    taken.add(name)
    return name


def _email(rng: random.Random, username: str) -> str:
    domain = rng.choice(EMAIL_DOMAINS)
    if domain == "qq.com" and rng.random() < 0.6:  # most QQ mail addresses are QQ numbers
        return f"{rng.randint(100_000, 3_999_999_999)}@qq.com"
    return f"{username}@{domain}"


def make_users(
    rng: random.Random, fake: Faker, ids: IdSequence, count: int, password_hash: str
) -> tuple[list[Row], list[Person]]:
    """``count`` users, ``alice`` and ``bob`` first (adult, verified), then generated ones."""
    rows: list[Row] = []
    people: list[Person] = []
    taken: set[str] = set()
    for index, (born_after, born_before) in enumerate(_birth_windows(rng, count)):
        named = index < len(NAMED_USERS)
        username = NAMED_USERS[index] if named else _username(rng, fake, taken)
        male = index == 1 if named else rng.random() < 0.5
        surname = str(fake.last_name())
        given = str(fake.first_name_male() if male else fake.first_name_female())
        birth_date = day_between(rng, born_after, born_before)
        minor = age_on(birth_date) < 18
        birthplace = rng.choice(DISTRICTS)
        home = birthplace if rng.random() < 0.6 else rng.choice(DISTRICTS)
        # Nobody registered before the platform launched, nor before the age of eight.
        earliest = max(
            PLATFORM_LAUNCH,
            datetime.combine(birth_date, time(), tzinfo=UTC) + timedelta(days=8 * 366),
        )
        created_at = moment_between(rng, earliest, EPOCH - timedelta(days=1))
        real_name = f"{surname}{given}" if named or rng.random() < 0.9 else None
        has_id = real_name is not None and (named or rng.random() < 0.75)
        id_number = make_id_number(rng, birthplace.code, birth_date, male) if has_id else None
        verified = id_number is not None and (named or rng.random() < 0.7)
        verified_at = moment_between(rng, created_at, EPOCH) if verified else None
        person = Person(
            id=ids.next(),
            username=username,
            nickname=(
                username
                if rng.random() < 0.4
                else rng.choice(_NICKNAME_ADJECTIVES) + rng.choice(_NICKNAME_NOUNS)
            ),
            real_name=real_name,
            phone=make_mobile(rng),
            email=(
                _NAMED_EMAILS[index]
                if named
                else (_email(rng, username) if rng.random() < 0.7 else None)
            ),
            id_number=id_number,
            birth_date=birth_date,
            home=home,
            address=street_address(rng, home, str(fake.street_name())),
            created_at=created_at,
            verified_at=verified_at,
            guardian_name=f"{surname}{fake.first_name()}" if minor else None,
        )
        people.append(person)
        rows.append(_user_row(rng, fake, person, male, password_hash))
    return rows, people


def _user_row(
    rng: random.Random, fake: Faker, person: Person, male: bool, password_hash: str
) -> Row:
    """The users row of ``person``, with the optional profile a user may have filled in."""
    named = person.username in NAMED_USERS
    adult_profile = not person.minor and rng.random() < 0.6
    verified = person.verified_at is not None
    return {
        "id": person.id,
        "username": person.username,
        "password_hash": password_hash,
        "nickname": person.nickname,
        "avatar_url": (
            f"https://static.qinxue.example/avatars/{person.id:07d}.jpg"
            if rng.random() < 0.8
            else None
        ),
        "region": person.home.region,
        "phone": person.phone,
        "email": person.email,
        "real_name": person.real_name,
        "id_number": person.id_number,
        "birth_date": person.birth_date,
        "gender": ("male" if male else "female") if named or rng.random() < 0.9 else None,
        "job_title": str(fake.job())[:64] if adult_profile else None,
        "company": str(fake.company()) if adult_profile else None,
        "education": _education(rng, person.minor, person.birth_date),
        "real_name_verified": verified,
        "verified_at": person.verified_at,
        # A short stand-in for the face template taken at real-name verification.
        "face_template": rng.randbytes(64) if verified else None,
        "created_at": person.created_at,
        "closed_at": None,
    }


def _education(rng: random.Random, minor: bool, birth_date: date) -> str | None:
    if minor:
        return "初中" if age_on(birth_date) < 15 else "高中"
    if rng.random() < 0.3:
        return None
    return rng.choices(EDUCATION_LEVELS, weights=_EDUCATION_WEIGHTS)[0]
