"""Orders of courses: items, payment, delivery of printed materials, invoices, enrollments."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from faker import Faker

from fieldgate.demo.catalog import CourseRef
from fieldgate.demo.identity_numbers import make_bank_card, make_credit_code, make_mobile
from fieldgate.demo.people import Person
from fieldgate.demo.places import DISTRICTS, street_address
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import EPOCH, moment_between

ORDER_STATUSES = ("pending", "paid", "shipped", "completed", "refunded", "cancelled")
# Statuses of orders whose money was taken (a refunded order was paid first).
PAID_STATUSES = frozenset({"paid", "shipped", "completed", "refunded"})
# Statuses under which the buyer may study the ordered courses.
ENROLLING_STATUSES = frozenset({"paid", "shipped", "completed"})
# Weights of ORDER_STATUSES: with printed materials to ship, and without ("shipped" impossible).
_STATUS_WEIGHTS_SHIPPING = (8, 12, 25, 35, 8, 12)
_STATUS_WEIGHTS_DIGITAL = (10, 15, 0, 50, 10, 15)
UNIONPAY_SHARE = 0.85
SF_EXPRESS_SHARE = 0.85
_REMARKS = (
    "请尽快发货,谢谢。",
    "工作日白天不在家,请放快递柜。",
    "发票请随教材一起寄出。",
    "希望能赠送往年真题。",
    "请电话联系后再送货。",
    "是帮同事买的,收件人写的是同事。",
    "周末送货也可以。",
    "学生党,请问还有优惠券吗?",
)


def _delivered_at(order_id: int, created_at: datetime, status: str, ships: bool) -> datetime | None:
    """When a completed order's materials arrived: two to five days after it was placed
    (from its id, not the random stream, so that the rest of the data stays as it was)."""
    if status != "completed" or not ships:
        return None
    return created_at + timedelta(days=2 + order_id % 4, hours=order_id % 24)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What tickets and enrollments need of an order."""

    id: int
    user_id: int
    order_no: str
    status: str
    created_at: datetime
    course_ids: tuple[int, ...]
    ships: bool


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """An order decided in advance: its status, and whether it must ship by sf-express."""

    status: str
    shipped_by_sf_express: bool = False


# The named users' orders, in this order; everyone else's are drawn at random.
NAMED_ORDERS: Mapping[str, tuple[OrderPlan, ...]] = {
    "alice": (
        OrderPlan("shipped", shipped_by_sf_express=True),
        OrderPlan("completed"),
        OrderPlan("paid"),
        OrderPlan("refunded"),
    ),
    "bob": (
        OrderPlan("shipped", shipped_by_sf_express=True),
        OrderPlan("completed"),
        OrderPlan("pending"),
    ),
}


@dataclass
class OrderBook:
    """The rows of the orders step: orders, their items, and references for later steps."""

    orders: list[Row]
    items: list[Row]
    refs: list[OrderRef]


class _OrderMaker:
    def __init__(
        self,
        rng: random.Random,
        fake: Faker,
        order_ids: IdSequence,
        item_ids: IdSequence,
        courses: list[CourseRef],
        partner_ids: Mapping[str, int],
    ) -> None:
        self.rng = rng
        self.fake = fake
        self.order_ids = order_ids
        self.item_ids = item_ids
        self.courses = courses
        self.shipping_courses = [course for course in courses if course.ships_materials]
        self.partner_ids = partner_ids
        self.cards: dict[int, str] = {}  # one bank card per buyer
        self.book = OrderBook([], [], [])

    def _items(self, plan: OrderPlan | None) -> list[CourseRef]:
        rng = self.rng
        count = rng.choices((1, 2, 3), (70, 22, 8))[0]
        if plan is not None and plan.shipped_by_sf_express:
            first = rng.choice(self.shipping_courses)
            others = [course for course in self.courses if course.id != first.id]
            return [first, *rng.sample(others, count - 1)]
        return rng.sample(self.courses, count)

    def _created_at(self, person: Person, status: str) -> datetime:
        # Unpaid and unshipped orders are recent; the rest span the buyer's membership.
        recent_days = {"pending": 3, "paid": 10, "shipped": 14}.get(status)
        start = person.created_at
        if recent_days is not None:
            start = max(start, EPOCH - timedelta(days=recent_days))
        return moment_between(self.rng, start, EPOCH)

    def add(self, person: Person, plan: OrderPlan | None) -> None:
        rng = self.rng
        items = self._items(plan)
        ships = any(course.ships_materials for course in items)
        if plan is not None:
            status = plan.status
        else:
            weights = _STATUS_WEIGHTS_SHIPPING if ships else _STATUS_WEIGHTS_DIGITAL
            status = rng.choices(ORDER_STATUSES, weights)[0]
        paid = status in PAID_STATUSES
        created_at = self._created_at(person, status)
        order_id = self.order_ids.next()
        order_no = f"FG{created_at:%Y%m%d}{order_id:07d}"
        logistics, address = self._delivery(person, plan) if ships else (None, None)
        invoice_title, invoice_tax_id = self._invoice() if paid else (None, None)
        self.book.orders.append(
            {
                "id": order_id,
                "order_no": order_no,
                "user_id": person.id,
                "status": status,
                "amount_cents": sum(course.price_cents for course in items),
                "created_at": created_at,
                "delivered_at": _delivered_at(order_id, created_at, status, ships),
                "buyer_name": person.real_name or person.nickname,
                "buyer_phone": person.phone,
                "buyer_id_number": person.id_number,
                "bank_card": self._card(person) if paid else None,
                "delivery_address": address,
                "invoice_title": invoice_title,
                "invoice_tax_id": invoice_tax_id,
                "remarks": self._remarks(),
                "logistics_partner_id": logistics,
                "payment_partner_id": (
                    self.partner_ids["unionpay"] if paid and rng.random() < UNIONPAY_SHARE else None
                ),
            }
        )
        for course in items:
            self.book.items.append(
                {
                    "id": self.item_ids.next(),
                    "order_id": order_id,
                    "course_id": course.id,
                    "quantity": 1,
                    "price_cents": course.price_cents,
                }
            )
        course_ids = tuple(course.id for course in items)
        self.book.refs.append(
            OrderRef(order_id, person.id, order_no, status, created_at, course_ids, ships)
        )

    def _delivery(self, person: Person, plan: OrderPlan | None) -> tuple[int, str]:
        """The logistics partner and the address printed materials go to."""
        rng = self.rng
        sf = (plan is not None and plan.shipped_by_sf_express) or rng.random() < SF_EXPRESS_SHARE
        partner = self.partner_ids["sf-express" if sf else "global-logistics"]
        if rng.random() < 0.8:
            return partner, person.address
        # Sometimes the office or a friend's place.
        return partner, street_address(rng, rng.choice(DISTRICTS), str(self.fake.street_name()))

    def _invoice(self) -> tuple[str | None, str | None]:
        """Invoice title and tax id of a paid order: none, a company's, or a person's."""
        rng = self.rng
        if rng.random() >= 0.2:
            return None, None
        if rng.random() < 0.7:  # a company reimburses the course
            return str(self.fake.company()), make_credit_code(rng, rng.choice(DISTRICTS).code)
        return "个人", None

    def _remarks(self) -> str | None:
        rng = self.rng
        if rng.random() >= 0.15:
            return None
        remarks = rng.choice(_REMARKS)
        if rng.random() < 0.3:  # free text holds whatever buyers type, phone numbers too
            remarks += f"备用电话{make_mobile(rng)}。"
        return remarks

    def _card(self, person: Person) -> str:
        if person.id not in self.cards:
            self.cards[person.id] = make_bank_card(self.rng)
        return self.cards[person.id]


def make_orders(
    rng: random.Random,
    fake: Faker,
    order_ids: IdSequence,
    item_ids: IdSequence,
    count: int,
    people: list[Person],
    courses: list[CourseRef],
    partner_ids: Mapping[str, int],
) -> OrderBook:
    """``count`` orders: the named users' planned ones first, then random buyers'.

    Every order has 1-3 items and an amount equal to their prices; orders with printed
    materials have a logistics partner and a delivery address.
    """
    maker = _OrderMaker(rng, fake, order_ids, item_ids, courses, partner_ids)
    for person in people:
        for plan in NAMED_ORDERS.get(person.username, ()):
            maker.add(person, plan)
    buyers = [person for person in people if person.username not in NAMED_ORDERS]
    for _ in range(count - len(maker.book.orders)):
        maker.add(rng.choice(buyers), None)
    return maker.book


def make_enrollments(rng: random.Random, ids: IdSequence, orders: list[OrderRef]) -> list[Row]:
    """One enrollment per user and course bought in a paid, shipped or completed order."""
    rows: list[Row] = []
    enrolled: set[tuple[int, int]] = set()
    for order in orders:
        if order.status not in ENROLLING_STATUSES:
            continue
        for course_id in order.course_ids:
            if (order.user_id, course_id) in enrolled:
                continue
            enrolled.add((order.user_id, course_id))
            if order.status == "completed":
                progress = 100 if rng.random() < 0.35 else rng.randint(0, 99)
            else:
                progress = rng.randint(0, 60)
            rows.append(
                {
                    "id": ids.next(),
                    "user_id": order.user_id,
                    "course_id": course_id,
                    "progress": progress,
                    "study_minutes": progress * rng.randint(3, 15),
                    "completed": progress == 100,
                    "enrolled_at": order.created_at + timedelta(minutes=rng.randint(1, 30)),
                }
            )
    return rows
