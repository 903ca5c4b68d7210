"""The whole demo data set as rows, table by table, in foreign-key order (no database)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from faker import Faker

from fieldgate.demo.accounts import make_partners, make_staff
from fieldgate.demo.catalog import make_courses
from fieldgate.demo.consents import make_consents
from fieldgate.demo.devices import make_devices, make_login_events, make_third_party_logins
from fieldgate.demo.orders import make_enrollments, make_orders
from fieldgate.demo.people import make_users
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.tickets import make_tickets
from fieldgate.errors import BadUserInput

# Every table the demo data fills, parents before children.
TABLES: tuple[str, ...] = (
    "partners",
    "staff",
    "users",
    "courses",
    "third_party_logins",
    "devices",
    "login_events",
    "consents",
    "orders",
    "order_items",
    "enrollments",
    "support_tickets",
    "ticket_messages",
)
MINIMUM_SIZE = 10
SUPPORT_AGENTS = ("support1", "support2")


@dataclass(frozen=True, slots=True)
class DemoSizes:
    """How many rows of the main tables to make; the other tables follow from these."""

    users: int = 1000
    courses: int = 200
    orders: int = 5000
    tickets: int = 1000

    def check(self) -> None:
        """Refuse sizes too small for the named accounts' orders and tickets."""
        for name in ("users", "courses", "orders", "tickets"):
            if getattr(self, name) < MINIMUM_SIZE:
                raise BadUserInput(f"demo {name} must be at least {MINIMUM_SIZE}", field=name)


def generate_demo(
    sizes: DemoSizes, seed: int, password_hash: str, last_ids: Mapping[str, int] | None = None
) -> Iterator[tuple[str, list[Row]]]:
    """Yield ``(table, rows)`` for every table of :data:`TABLES`, in that order.

    Each table has its own random streams derived from ``seed``, so that its rows depend
    only on the seed, the sizes and the tables before it. Primary keys continue after
    ``last_ids`` (0 for every table of a fresh database).
    """
    sizes.check()
    ids = {table: IdSequence((last_ids or {}).get(table, 0)) for table in TABLES}
    fake = Faker("zh_CN")

    def streams(table: str) -> tuple[random.Random, Faker]:
        fake.seed_instance(f"{seed}/{table}/faker")
        return random.Random(f"{seed}/{table}"), fake

    partner_rows, partner_ids = make_partners(ids["partners"])
    yield "partners", partner_rows
    _, fake = streams("staff")
    staff_rows, staff_ids = make_staff(fake, ids["staff"], password_hash)
    yield "staff", staff_rows
    rng, fake = streams("users")
    user_rows, people = make_users(rng, fake, ids["users"], sizes.users, password_hash)
    yield "users", user_rows
    rng, fake = streams("courses")
    course_rows, courses = make_courses(
        rng, fake, ids["courses"], sizes.courses, partner_ids["merchant-1"]
    )
    yield "courses", course_rows
    rng, fake = streams("third_party_logins")
    yield (
        "third_party_logins",
        make_third_party_logins(rng, fake, ids["third_party_logins"], people),
    )
    rng, _ = streams("devices")
    device_rows, ips = make_devices(rng, ids["devices"], people)
    yield "devices", device_rows
    rng, _ = streams("login_events")
    yield "login_events", make_login_events(rng, ids["login_events"], people, ips)
    rng, _ = streams("consents")
    yield "consents", make_consents(rng, ids["consents"], people)
    rng, fake = streams("orders")
    book = make_orders(
        rng, fake, ids["orders"], ids["order_items"], sizes.orders, people, courses, partner_ids
    )
    yield "orders", book.orders
    yield "order_items", book.items
    rng, _ = streams("enrollments")
    yield "enrollments", make_enrollments(rng, ids["enrollments"], book.refs)
    rng, _ = streams("support_tickets")
    agents = {username: staff_ids[username] for username in SUPPORT_AGENTS}
    tickets = make_tickets(
        rng,
        ids["support_tickets"],
        ids["ticket_messages"],
        sizes.tickets,
        people,
        book.refs,
        agents,
    )
    yield "support_tickets", tickets.tickets
    yield "ticket_messages", tickets.messages
