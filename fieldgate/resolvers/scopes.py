"""Which rows of each type a principal sees: the SQL filter of each row scope.

A row scope of the policy (``own``, ``all``, ``assigned``, ``routed``, ``paid_through``,
``merchant`` …) becomes a WHERE clause on the row type's table, so invisible rows never
leave the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import RowScope
from fieldgate.authz.principal import Principal
from fieldgate.models.tables import audit_subjects, courses, orders, tickets
from fieldgate.models.tables import order_items as items

ScopeFilter = Callable[[RowScope, Principal, Policy], ColumnElement[bool]]
# Orders a logistics partner has something to do with: to ship, or on their way.
IN_DELIVERY = ("paid", "shipped")
DELIVERED = "completed"


def equals(column: ColumnElement[int], value: int | None) -> ColumnElement[bool]:
    return false() if value is None else column == value


def owned_by(subject: ColumnElement[int]) -> ScopeFilter:
    def scope_filter(scope: RowScope, principal: Principal, _policy: Policy) -> ColumnElement[bool]:
        if scope is RowScope.ALL:
            return true()
        if scope is RowScope.OWNER:
            return equals(subject, principal.user_id)
        return false()

    return scope_filter


def order_filter(scope: RowScope, principal: Principal, policy: Policy) -> ColumnElement[bool]:
    partner = principal.partner_id
    if scope is RowScope.ALL:
        return true()
    if scope is RowScope.OWNER:
        return equals(orders.c.user_id, principal.user_id)
    if scope is RowScope.ROUTED:
        return and_(equals(orders.c.logistics_partner_id, partner), in_delivery(policy))
    if scope is RowScope.PAID_THROUGH:
        return equals(orders.c.payment_partner_id, partner)
    if scope is RowScope.MERCHANT and partner is not None:
        merchant_orders = (
            select(items.c.order_id)
            .join(courses, courses.c.id == items.c.course_id)
            .where(courses.c.merchant_id == partner)
        )
        merchant: ColumnElement[bool] = orders.c.id.in_(merchant_orders)
        return merchant
    return false()


def in_delivery(policy: Policy, now: datetime | None = None) -> ColumnElement[bool]:
    """Orders paid or shipped, and delivered ones for the policy's days after delivery:
    delivery data is in a logistics partner's reach only while the delivery needs it."""
    days = policy.vocabulary.delivery_days
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    recent: ColumnElement[bool] = and_(orders.c.status == DELIVERED, orders.c.delivered_at >= since)
    return or_(orders.c.status.in_(IN_DELIVERY), recent)


def ticket_filter(scope: RowScope, principal: Principal, _policy: Policy) -> ColumnElement[bool]:
    if scope is RowScope.ALL:
        return true()
    if scope is RowScope.OWNER:
        return equals(tickets.c.user_id, principal.user_id)
    if scope is RowScope.ASSIGNED:
        return equals(tickets.c.assigned_staff_id, principal.staff_id)
    return false()


def catalogue_filter(
    scope: RowScope, _principal: Principal, _policy: Policy
) -> ColumnElement[bool]:
    return true() if scope is RowScope.ALL else false()


def own_access_log(scope: RowScope, principal: Principal, _policy: Policy) -> ColumnElement[bool]:
    # one row per (event, subject): only the subject's own rows keep events unique
    if scope is RowScope.OWNER:
        return equals(audit_subjects.c.user_id, principal.user_id)
    return false()
