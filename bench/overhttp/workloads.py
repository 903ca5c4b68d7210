"""The operations sent over HTTP, who sends them, and the mix of reads and writes."""

from __future__ import annotations

from dataclasses import dataclass

from bench.workloads import orders_query

DEEP_QUERY = (
    "query Deep @purpose(name: CUSTOMER_SUPPORT) { tickets(first: 20) { edges { node { "
    "id subject status createdAt contactPhone contactEmail "
    "messages { id authorKind body createdAt } "
    "order { id orderNo status buyerName buyerPhone deliveryAddress "
    "items { id quantity priceCents course { id title category teacher } } } } } } }"
)
SMALL_QUERY = "{ me { id username phone } }"
OWN_ORDERS_QUERY = (
    "{ orders(first: 20) { edges { node { id orderNo status amountCents createdAt "
    "items { id quantity priceCents } } } } }"
)
PLACE_ORDER = (
    "mutation Place($course: ID!) { placeOrder(input: {courseIds: [$course], "
    'deliveryAddress: "北京市海淀区中关村大街1号", remarks: "bench"}) '
    "{ id orderNo status amountCents } }"
)
COURSE_QUERY = "{ courses(first: 1) { edges { node { id } } } }"


@dataclass(frozen=True, slots=True)
class Operation:
    """One GraphQL request; ``every`` > 0 sends it as every n-th request of a mix."""

    query: str
    subject: str
    writes: bool = False
    every: int = 0


@dataclass(frozen=True, slots=True)
class HttpWorkload:
    """A workload: its first operation, plus the ones mixed in (``every``)."""

    name: str
    operations: tuple[Operation, ...]

    @property
    def subjects(self) -> frozenset[str]:
        return frozenset(o.subject for o in self.operations)


SUPPORT = "support-100-orders"
HTTP_WORKLOADS: tuple[HttpWorkload, ...] = (
    HttpWorkload(SUPPORT, (Operation(orders_query("Big", "CUSTOMER_SUPPORT"), "support1"),)),
    HttpWorkload(
        "partner-100-orders", (Operation(orders_query("Delivery", "DELIVERY"), "sf-express"),)
    ),
    HttpWorkload("small", (Operation(SMALL_QUERY, "alice"),)),
    HttpWorkload("deep", (Operation(DEEP_QUERY, "support1"),)),
    HttpWorkload("write", (Operation(PLACE_ORDER, "alice", writes=True),)),
    HttpWorkload(
        "mixed-90-10",
        (
            Operation(OWN_ORDERS_QUERY, "alice"),
            Operation(PLACE_ORDER, "alice", writes=True, every=10),
        ),
    ),
)


def select_http_workloads(names: list[str] | None) -> tuple[HttpWorkload, ...]:
    """The workloads named (all when ``names`` is empty), in the order above."""
    if not names:
        return HTTP_WORKLOADS
    known = {w.name for w in HTTP_WORKLOADS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown workloads {unknown}; known: {sorted(known)}")
    return tuple(w for w in HTTP_WORKLOADS if w.name in names)
