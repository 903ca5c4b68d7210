"""The demo data set in a real database: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import fieldgate.models  # noqa: F401  (registers every table on the metadata)
from fieldgate.crypto.encrypted import BINARY_COLUMNS, ENCRYPTED_COLUMNS
from fieldgate.crypto.keyring import Keyring
from fieldgate.demo import CONSENT_PURPOSES, CROSS_BORDER, DEMO_PASSWORD, SeedReport, seed_demo
from fieldgate.demo.dataset import TABLES
from fieldgate.demo.identity_numbers import (
    id_number_birth_date,
    id_number_is_male,
    is_valid_bank_card,
    is_valid_credit_code,
    is_valid_id_number,
    is_valid_imei,
    is_valid_mobile,
)
from fieldgate.demo.network import is_valid_ipv4, is_valid_mac
from fieldgate.demo.timeline import age_on
from fieldgate.errors import BadUserInput
from fieldgate.identity.passwords import verify_password
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade

POSTGRES_URL = os.environ.get("FIELDGATE_TEST_POSTGRES_URL")
SIZES = {"users": 40, "courses": 12, "orders": 120, "tickets": 30}
STAFF = {
    "admin": "admin",
    "dpo": "dpo",
    "support1": "support_agent",
    "support2": "support_agent",
    "finance1": "finance",
    "security1": "security_analyst",
    "verifier1": "verification_officer",
    "marketing1": "marketing",
}
PARTNERS = {
    "sf-express": ("logistics", "CN", "DELIVERY"),
    "unionpay": ("payment", "CN", "PAYMENT"),
    "merchant-1": ("merchant", "CN", "ORDER_FULFILLMENT CUSTOMER_SUPPORT"),
    "insight-1": ("analytics", "CN", "ANALYTICS"),
    "global-logistics": ("logistics", "SG", "DELIVERY"),
}

Rows = list[dict[str, Any]]
EngineFactory = Callable[..., Awaitable[AsyncEngine]]
# One data keyring for every database this module seeds.
KEYRING = Keyring.generate()


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)


async def fresh_sqlite(folder: Path) -> tuple[AsyncEngine, Callable[[], Awaitable[None]]]:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / uuid.uuid4().hex}.db")
    return engine, engine.dispose


async def fresh_postgres() -> tuple[AsyncEngine, Callable[[], Awaitable[None]]]:
    """A new, empty database beside the configured one, dropped again afterwards."""
    assert POSTGRES_URL is not None
    name = f"fieldgate_seed_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)

    async def drop() -> None:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()

    return engine, drop


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    POSTGRES_URL is None, reason="FIELDGATE_TEST_POSTGRES_URL is not set"
                ),
            ],
        ),
    ],
)
async def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EngineFactory]:
    """Makes fresh databases with the schema on one backend; removes them at the end.

    The schema comes from the models' metadata, or from the Alembic migrations when
    ``migrated=True`` (as ``fieldgate db upgrade`` makes it).
    """
    folder = tmp_path_factory.mktemp("seed")
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def make(*, migrated: bool = False) -> AsyncEngine:
        if request.param == "sqlite":
            engine, cleanup = await fresh_sqlite(folder)
        else:
            engine, cleanup = await fresh_postgres()
        cleanups.append(cleanup)
        if migrated:
            # Alembic runs on synchronous drivers: keep it off the event loop.
            await asyncio.to_thread(upgrade, engine.url.render_as_string(hide_password=False))
        else:
            await create_schema(engine)
        return engine

    yield make
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture(scope="module")
async def seeded(new_database: EngineFactory) -> tuple[AsyncEngine, SeedReport]:
    engine = await new_database()
    report = await seed_demo(engine, keyring=KEYRING, seed=7, progress=False, **SIZES)
    return engine, report


async def fetch_stored(engine: AsyncEngine, name: str) -> Rows:
    """The rows of a table as stored (encrypted columns sealed)."""
    t = table(name)
    async with engine.connect() as connection:
        result = await connection.execute(select(t).order_by(t.c.id))
        return [dict(row) for row in result.mappings()]


async def fetch(engine: AsyncEngine, name: str) -> Rows:
    """The rows of a table with their encrypted columns opened."""
    rows = await fetch_stored(engine, name)
    for row in rows:
        for column in ENCRYPTED_COLUMNS.get(name, ()):
            if row[column] is None:
                continue
            binary = (name, column) in BINARY_COLUMNS
            opened = KEYRING.decrypt_bytes if binary else KEYRING.decrypt
            row[column] = opened(row[column])
    return rows


async def count(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table(name))) or 0)


async def dump(engine: AsyncEngine) -> dict[str, Rows]:
    """Every demo table's rows, without password hashes (Argon2 salts them at random) and
    with sealed values opened (each seal has a random nonce)."""
    rows = {name: await fetch(engine, name) for name in TABLES}
    for name in ("users", "staff"):
        for row in rows[name]:
            row.pop("password_hash")
    return rows


async def test_counts_match_sizes_and_report(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, report = seeded
    assert not report.already_seeded
    assert report.counts["users"] == SIZES["users"]
    assert report.counts["courses"] == SIZES["courses"]
    assert report.counts["orders"] == SIZES["orders"]
    assert report.counts["support_tickets"] == SIZES["tickets"]
    assert report.counts["staff"] == len(STAFF)
    assert report.counts["partners"] == len(PARTNERS)
    assert list(report.counts) == list(TABLES)
    for name in TABLES:
        assert await count(engine, name) == report.counts[name], name
    assert report.summary().startswith("seeded 5 partners, 8 staff, 40 users")


async def test_every_identifier_validates(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, _ = seeded
    users = await fetch(engine, "users")
    with_id = [user for user in users if user["id_number"] is not None]
    assert with_id
    for user in with_id:
        assert is_valid_id_number(user["id_number"])
        assert id_number_birth_date(user["id_number"]) == user["birth_date"]
        if user["gender"] is not None:
            assert id_number_is_male(user["id_number"]) is (user["gender"] == "male")
    assert all(is_valid_mobile(user["phone"]) for user in users)

    orders = await fetch(engine, "orders")
    for order in orders:
        assert is_valid_mobile(order["buyer_phone"])
        assert order["buyer_id_number"] is None or is_valid_id_number(order["buyer_id_number"])
        assert order["bank_card"] is None or is_valid_bank_card(order["bank_card"])
        assert order["invoice_tax_id"] is None or is_valid_credit_code(order["invoice_tax_id"])
    assert any(order["bank_card"] for order in orders)
    assert any(order["invoice_tax_id"] for order in orders)

    devices = await fetch(engine, "devices")
    assert devices
    for device in devices:
        assert is_valid_imei(device["imei"])
        assert is_valid_mac(device["mac"])
        assert is_valid_ipv4(device["ip"])
    for ticket in await fetch(engine, "support_tickets"):
        assert is_valid_mobile(ticket["contact_phone"])
    for event in await fetch(engine, "login_events"):
        assert is_valid_ipv4(event["ip"])


async def test_sensitive_columns_are_stored_sealed_with_a_blind_index(
    seeded: tuple[AsyncEngine, SeedReport],
) -> None:
    engine, _ = seeded
    sealed = 0
    for name, columns in ENCRYPTED_COLUMNS.items():
        for row in await fetch_stored(engine, name):
            for column in columns:
                if row[column] is not None:
                    assert Keyring.is_encrypted(row[column]), (name, column, row["id"])
                    assert Keyring.key_id_of(row[column]) == KEYRING.active_key_id
                    sealed += 1
    assert sealed > SIZES["orders"]
    for stored, opened in zip(
        await fetch_stored(engine, "users"), await fetch(engine, "users"), strict=True
    ):
        if opened["id_number"] is None:
            assert stored["id_number_index"] is None
        else:
            assert stored["id_number_index"] == KEYRING.blind_index(opened["id_number"])


async def test_named_accounts_share_the_demo_password(
    seeded: tuple[AsyncEngine, SeedReport],
) -> None:
    engine, _ = seeded
    staff = {row["username"]: row for row in await fetch(engine, "staff")}
    assert {name: row["roles"] for name, row in staff.items()} == STAFF
    users = {row["username"]: row for row in await fetch(engine, "users")}
    # Argon2 is slow: the password is hashed once and every demo account shares the hash.
    hashes = {row["password_hash"] for row in [*staff.values(), *users.values()]}
    assert len(hashes) == 1
    (shared,) = hashes
    assert verify_password(shared, DEMO_PASSWORD)
    assert not verify_password(shared, "wrong-password")
    # Chinese display names, one to four Han characters.
    for row in staff.values():
        assert all("\u4e00" <= char <= "\u9fff" for char in row["display_name"])
    partners = {row["name"]: row for row in await fetch(engine, "partners")}
    assert {
        name: (row["kind"], row["region"], row["allowed_purposes"])
        for name, row in partners.items()
    } == PARTNERS


async def test_alice_and_bob_have_a_full_history(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, _ = seeded
    users = {row["username"]: row for row in await fetch(engine, "users")}
    sf_express = next(p["id"] for p in await fetch(engine, "partners") if p["name"] == "sf-express")
    orders = await fetch(engine, "orders")
    tickets = await fetch(engine, "support_tickets")
    ticket_ids_with_messages = {m["ticket_id"] for m in await fetch(engine, "ticket_messages")}
    for name in ("alice", "bob"):
        user = users[name]
        assert age_on(user["birth_date"]) >= 18
        assert user["real_name_verified"] and user["real_name"] and user["id_number"]
        assert user["face_template"]
        own_orders = [o for o in orders if o["user_id"] == user["id"]]
        assert len(own_orders) >= 3
        assert any(
            o["status"] == "shipped" and o["logistics_partner_id"] == sf_express for o in own_orders
        )
        own_tickets = [t for t in tickets if t["user_id"] == user["id"]]
        assert own_tickets
        assert all(t["id"] in ticket_ids_with_messages for t in own_tickets)
        for name_of_table in ("enrollments", "devices", "login_events", "consents"):
            rows = await fetch(engine, name_of_table)
            assert any(row["user_id"] == user["id"] for row in rows), (name, name_of_table)


async def test_minors_and_their_guardians(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, _ = seeded
    users = await fetch(engine, "users")
    ages = {user["id"]: age_on(user["birth_date"]) for user in users}
    assert any(10 <= age <= 13 for age in ages.values())
    assert any(14 <= age <= 17 for age in ages.values())
    assert all(age >= 10 for age in ages.values())
    assert sum(age < 18 for age in ages.values()) < len(users) / 4
    consents = await fetch(engine, "consents")
    minors = {user_id for user_id, age in ages.items() if age < 18}
    guarded = {c["user_id"] for c in consents if c["guardian_consent"]}
    assert guarded and guarded <= minors
    assert minors - guarded
    assert all(c["guardian_name"] for c in consents if c["guardian_consent"])


async def test_consents(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, _ = seeded
    consents = await fetch(engine, "consents")
    assert {c["purpose"] for c in consents} <= set(CONSENT_PURPOSES)
    assert any(c["withdrawn_at"] is not None for c in consents)
    assert any(c["purpose"] == CROSS_BORDER for c in consents)
    for consent in consents:
        if consent["withdrawn_at"] is not None:
            assert consent["withdrawn_at"] >= consent["granted_at"]


async def test_orders_add_up_and_ship_through_a_logistics_partner(
    seeded: tuple[AsyncEngine, SeedReport],
) -> None:
    engine, _ = seeded
    courses = {course["id"]: course for course in await fetch(engine, "courses")}
    partners = {p["id"]: p for p in await fetch(engine, "partners")}
    items: dict[int, Rows] = {}
    for item in await fetch(engine, "order_items"):
        items.setdefault(item["order_id"], []).append(item)
    orders = await fetch(engine, "orders")
    for order in orders:
        own = items[order["id"]]
        assert 1 <= len(own) <= 3
        assert order["amount_cents"] == sum(i["price_cents"] * i["quantity"] for i in own)
        ships = any(courses[i["course_id"]]["ships_materials"] for i in own)
        if ships:
            assert partners[order["logistics_partner_id"]]["kind"] == "logistics"
            assert order["delivery_address"]
        else:
            assert order["logistics_partner_id"] is None
            assert order["status"] != "shipped"
        if order["payment_partner_id"] is not None:
            assert partners[order["payment_partner_id"]]["name"] == "unionpay"
            assert order["bank_card"] is not None
    assert len({order["order_no"] for order in orders}) == len(orders)
    assert {order["status"] for order in orders} <= {
        "paid", "pending", "refunded", "shipped", "completed", "cancelled"
    }  # fmt: skip


async def test_tickets_messages_and_enrollments_are_consistent(
    seeded: tuple[AsyncEngine, SeedReport],
) -> None:
    engine, _ = seeded
    staff = {row["id"]: row["username"] for row in await fetch(engine, "staff")}
    orders = {order["id"]: order for order in await fetch(engine, "orders")}
    tickets = await fetch(engine, "support_tickets")
    messages: dict[int, Rows] = {}
    for message in await fetch(engine, "ticket_messages"):
        messages.setdefault(message["ticket_id"], []).append(message)
    for ticket in tickets:
        assert 1 <= len(messages[ticket["id"]]) <= 4
        assert messages[ticket["id"]][0]["author_kind"] == "user"
        if ticket["order_id"] is not None:
            assert orders[ticket["order_id"]]["user_id"] == ticket["user_id"]
        if ticket["assigned_staff_id"] is not None:
            assert staff[ticket["assigned_staff_id"]] in ("support1", "support2")
    assert any(ticket["assigned_staff_id"] for ticket in tickets)
    assert any(ticket["assigned_staff_id"] is None for ticket in tickets)
    bought: set[tuple[int, int]] = set()
    for item in await fetch(engine, "order_items"):
        order = orders[item["order_id"]]
        bought.add((order["user_id"], item["course_id"]))
    for enrollment in await fetch(engine, "enrollments"):
        assert (enrollment["user_id"], enrollment["course_id"]) in bought
        assert enrollment["completed"] is (enrollment["progress"] == 100)


async def test_second_run_inserts_nothing(seeded: tuple[AsyncEngine, SeedReport]) -> None:
    engine, first = seeded
    report = await seed_demo(engine, keyring=KEYRING, seed=99, progress=False, **SIZES)
    assert report.already_seeded
    assert report.counts == {}
    for name in TABLES:
        assert await count(engine, name) == first.counts[name], name


async def test_new_rows_get_fresh_ids_after_the_seed(
    seeded: tuple[AsyncEngine, SeedReport],
) -> None:
    # On PostgreSQL the seed sets ids itself, so it must move the sequences past them.
    engine, report = seeded
    assert await next_partner_id(engine) > report.counts["partners"]


async def next_partner_id(engine: AsyncEngine) -> int:
    """The id the database gives a new partner row (the row is removed again)."""
    partners = table("partners")
    async with engine.begin() as connection:
        result = await connection.execute(
            insert(partners).returning(partners.c.id),
            {
                "name": "late-partner",
                "kind": "analytics",
                "region": "CN",
                "allowed_purposes": "ANALYTICS",
                "active": True,
                "created_at": datetime(2026, 6, 2, tzinfo=UTC),
            },
        )
        new_id = int(result.scalar_one())
        await connection.execute(partners.delete().where(partners.c.id == new_id))
    return new_id


async def test_seed_on_the_migrated_schema(new_database: EngineFactory) -> None:
    engine = await new_database(migrated=True)
    report = await seed_demo(engine, keyring=KEYRING, progress=False, **SIZES)
    for name in TABLES:
        assert await count(engine, name) == report.counts[name], name
    assert await next_partner_id(engine) == report.counts["partners"] + 1


async def test_same_seed_same_rows_other_seed_other_rows(new_database: EngineFactory) -> None:
    first, second, other = [await new_database() for _ in range(3)]
    await seed_demo(first, keyring=KEYRING, seed=3, progress=False, **SIZES)
    await seed_demo(second, keyring=KEYRING, seed=3, progress=False, **SIZES)
    await seed_demo(other, keyring=KEYRING, seed=4, progress=False, **SIZES)
    same = await dump(first)
    assert same == await dump(second)
    different = await dump(other)
    assert different["users"] != same["users"]
    assert different["orders"] != same["orders"]
    # The fixed accounts are there whatever the seed.
    assert [row["username"] for row in different["staff"]] == list(STAFF)


async def test_ids_continue_after_existing_rows(new_database: EngineFactory) -> None:
    engine = await new_database()
    partners = table("partners")
    async with engine.begin() as connection:
        await connection.execute(
            insert(partners),
            {
                "name": "existing",
                "kind": "merchant",
                "region": "CN",
                "allowed_purposes": "ORDER_FULFILLMENT",
                "active": True,
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
            },
        )
    await seed_demo(engine, keyring=KEYRING, progress=False, **SIZES)
    by_name = {row["name"]: row["id"] for row in await fetch(engine, "partners")}
    assert by_name["sf-express"] == by_name["existing"] + 1
    merchant_courses = [c for c in await fetch(engine, "courses") if c["merchant_id"] is not None]
    assert merchant_courses
    assert {c["merchant_id"] for c in merchant_courses} == {by_name["merchant-1"]}


@pytest.mark.parametrize("size", ["users", "courses", "orders", "tickets"])
async def test_sizes_under_ten_are_refused(size: str) -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        with pytest.raises(BadUserInput):
            await seed_demo(engine, keyring=KEYRING, progress=False, **{size: 9})
    finally:
        await engine.dispose()
