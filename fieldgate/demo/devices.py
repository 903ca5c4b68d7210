"""What the security features record: devices, login events and third-party sign-in bindings."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import timedelta

from faker import Faker

from fieldgate.demo.identity_numbers import make_imei
from fieldgate.demo.network import make_ipv4, make_mac
from fieldgate.demo.people import NAMED_USERS, Person
from fieldgate.demo.places import DISTRICTS
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import EPOCH, moment_between


@dataclass(frozen=True, slots=True)
class PhoneModel:
    model: str
    os: str
    imei_reporting_body: str  # first two digits of the IMEI's type allocation code


PHONE_MODELS: tuple[PhoneModel, ...] = (
    PhoneModel("华为 Mate 60 Pro", "HarmonyOS 4.2", "86"),
    PhoneModel("华为 P60", "HarmonyOS 4.0", "86"),
    PhoneModel("华为 nova 12", "HarmonyOS 4.0", "86"),
    PhoneModel("荣耀 Magic6", "MagicOS 8.0", "86"),
    PhoneModel("小米 14", "Xiaomi HyperOS 1.0 (Android 14)", "86"),
    PhoneModel("Redmi K70", "Xiaomi HyperOS 1.0 (Android 14)", "86"),
    PhoneModel("OPPO Find X7", "ColorOS 14 (Android 14)", "86"),
    PhoneModel("vivo X100", "OriginOS 4 (Android 14)", "86"),
    PhoneModel("一加 12", "ColorOS 14 (Android 14)", "86"),
    PhoneModel("苹果 iPhone 15", "iOS 17.5", "35"),
    PhoneModel("苹果 iPhone 14 Pro", "iOS 17.4", "35"),
    PhoneModel("苹果 iPhone 13", "iOS 16.7", "35"),
)

THIRD_PARTY_PROVIDERS = ("wechat", "qq", "weibo", "apple")
_HEX_UPPER = "0123456789ABCDEF"
_OPENID_CHARS = string.ascii_letters + string.digits + "-_"


def make_devices(
    rng: random.Random, ids: IdSequence, people: list[Person]
) -> tuple[list[Row], dict[int, list[str]]]:
    """0-2 devices per user (2 for the named users), and the IPs each user was seen at."""
    rows: list[Row] = []
    ips: dict[int, list[str]] = {}
    for person in people:
        count = 2 if person.username in NAMED_USERS else rng.choices((0, 1, 2), (25, 50, 25))[0]
        for _ in range(count):
            phone = rng.choice(PHONE_MODELS)
            ip = make_ipv4(rng)
            ips.setdefault(person.id, []).append(ip)
            rows.append(
                {
                    "id": ids.next(),
                    "user_id": person.id,
                    "model": phone.model,
                    "os": phone.os,
                    "imei": make_imei(rng, phone.imei_reporting_body),
                    "mac": make_mac(rng),
                    "ip": ip,
                    "last_seen_at": moment_between(rng, person.created_at, EPOCH),
                }
            )
    return rows, ips


def make_login_events(
    rng: random.Random, ids: IdSequence, people: list[Person], ips: dict[int, list[str]]
) -> list[Row]:
    """0-5 login events per user (5 for the named users), mostly from home, some failed."""
    rows: list[Row] = []
    for person in people:
        count = 5 if person.username in NAMED_USERS else rng.randint(0, 5)
        known = ips.get(person.id, [])
        for _ in range(count):
            at_home = rng.random() < 0.8
            rows.append(
                {
                    "id": ids.next(),
                    "user_id": person.id,
                    "ip": rng.choice(known) if known and at_home else make_ipv4(rng),
                    "city": (person.home if at_home else rng.choice(DISTRICTS)).city,
                    "succeeded": rng.random() < 0.9,
                    "at": moment_between(rng, person.created_at, EPOCH),
                }
            )
    return rows


def _external_id(rng: random.Random, provider: str) -> str:
    """An id in the shape each provider gives to third-party apps."""
    if provider == "wechat":  # an OpenID
        return "o" + "".join(rng.choices(_OPENID_CHARS, k=27))
    if provider == "qq":
        return "".join(rng.choices(_HEX_UPPER, k=32))
    if provider == "weibo":
        return str(rng.randint(1_000_000_000, 7_999_999_999))
    # Sign in with Apple: team-scoped user identifier.
    middle = "".join(rng.choices("0123456789abcdef", k=32))
    return f"{rng.randint(0, 999_999):06d}.{middle}.{rng.randint(0, 9999):04d}"


def make_third_party_logins(
    rng: random.Random, fake: Faker, ids: IdSequence, people: list[Person]
) -> list[Row]:
    """WeChat, QQ, Weibo or Apple bindings for about 40% of users (WeChat for the named)."""
    rows: list[Row] = []
    for person in people:
        if person.username in NAMED_USERS:
            providers: list[str] = ["wechat"]
        elif rng.random() < 0.4:
            providers = rng.sample(THIRD_PARTY_PROVIDERS, rng.choices((1, 2), (80, 20))[0])
        else:
            continue
        for provider in providers:
            rows.append(
                {
                    "id": ids.next(),
                    "user_id": person.id,
                    "provider": provider,
                    "external_id": _external_id(rng, provider),
                    "external_nickname": (
                        person.nickname if rng.random() < 0.5 else str(fake.user_name())
                    ),
                    "bound_at": moment_between(
                        rng, person.created_at, min(EPOCH, person.created_at + timedelta(days=365))
                    ),
                }
            )
    return rows
