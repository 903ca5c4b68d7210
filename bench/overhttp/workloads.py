"""The operations sent over HTTP, who sends them, and the mix of reads and writes."""

from __future__ import annotations

from dataclasses import dataclass

from bench.workloads import SUPPORT_GRANTED_FIELDS, orders_query

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


JIT_PEER = "yoga+shield+jit"
"""GraphQL Yoga + graphql-shield + graphql-jit, 2 processes, on fieldgate's SQLite file."""
SHIELD_PEER = "yoga+shield"
"""GraphQL Yoga + graphql-shield, one process, the support query's orders from memory."""


@dataclass(frozen=True, slots=True)
class HttpWorkload:
    """A workload: its first operation, plus the ones mixed in (``every``).

    ``peers``: the peers that serve it too, measured in the same interleaved rounds;
    ``unstable``: answer fields that differ between servers by nature (a new order's id
    and number), left out when a peer's answer is compared with fieldgate's.
    """

    name: str
    operations: tuple[Operation, ...]
    peers: tuple[str, ...] = ()
    unstable: frozenset[str] = frozenset()

    @property
    def subjects(self) -> frozenset[str]:
        return frozenset(o.subject for o in self.operations)


SUPPORT = "support-100-orders"  # every order field: three masked, four denied
GRANTED = "support-100-granted"  # the fields granted to support: three masked, none denied
SMALL = "small"
HTTP_WORKLOADS: tuple[HttpWorkload, ...] = (
    HttpWorkload(
        GRANTED,
        (
            Operation(
                orders_query("Granted", "CUSTOMER_SUPPORT", SUPPORT_GRANTED_FIELDS), "support1"
            ),
        ),
        peers=(JIT_PEER,),
    ),
    HttpWorkload(
        SUPPORT,
        (Operation(orders_query("Big", "CUSTOMER_SUPPORT"), "support1"),),
        peers=(JIT_PEER, SHIELD_PEER),
    ),
    HttpWorkload(
        "partner-100-orders", (Operation(orders_query("Delivery", "DELIVERY"), "sf-express"),)
    ),
    HttpWorkload(SMALL, (Operation(SMALL_QUERY, "alice"),), peers=(JIT_PEER,)),
    HttpWorkload("deep", (Operation(DEEP_QUERY, "support1"),), peers=(JIT_PEER,)),
    HttpWorkload(
        "write",
        (Operation(PLACE_ORDER, "alice", writes=True),),
        peers=(JIT_PEER,),
        unstable=frozenset({"placeOrder.id", "placeOrder.orderNo"}),
    ),
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
