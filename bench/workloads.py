"""The operations measured, who sends them, and what their "on" responses must show."""

from __future__ import annotations

from dataclasses import dataclass

ORDER_FIELDS = (
    "id orderNo status amountCents createdAt buyerName buyerPhone buyerIdNumber bankCard "
    "deliveryAddress invoiceTitle invoiceTaxId remarks items { id quantity priceCents }"
)
# The order fields a support agent may read under CUSTOMER_SUPPORT: none denied, three masked.
SUPPORT_GRANTED_FIELDS = (
    "id orderNo status amountCents createdAt buyerName buyerPhone deliveryAddress remarks "
    "items { id quantity priceCents }"
)


def orders_query(name: str, purpose: str, fields: str = ORDER_FIELDS) -> str:
    """One page of 100 orders with ``fields`` (every order field), under a declared purpose."""
    return (
        f"query {name} @purpose(name: {purpose}) "
        f"{{ orders(first: 100) {{ edges {{ node {{ {fields} }} }} }} }}"
    )


@dataclass(frozen=True, slots=True)
class Workload:
    """One operation sent by one demo account.

    ``purpose`` is the purpose the engine must report in ``extensions.disclosure``;
    ``masks`` and ``denies`` say whether every "on" response must hold masked values
    and denied fields (under the packaged policy); "off" responses must hold neither.
    """

    name: str
    subject: str
    query: str
    purpose: str
    masks: bool
    denies: bool


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="support-100-orders",
        subject="support1",
        query=orders_query("Big", "CUSTOMER_SUPPORT"),
        purpose="CUSTOMER_SUPPORT",
        masks=True,  # buyer name, phone and address MASKED
        denies=True,  # ID number, bank card and invoice fields DENIED
    ),
    Workload(
        name="small",
        subject="alice",
        query="{ me { id username phone } }",
        purpose="RIGHTS",  # a user's default purpose; the owner sees these fields FULL
        masks=False,
        denies=False,
    ),
    Workload(
        name="partner-100-orders",
        subject="sf-express",
        query=orders_query("Delivery", "DELIVERY"),
        purpose="DELIVERY",
        masks=False,  # logistics gets its delivery fields FULL on orders routed to it
        denies=True,  # everything else DENIED
    ),
)


def select_workloads(names: list[str] | None) -> tuple[Workload, ...]:
    """The workloads named (all when ``names`` is empty), in the order of :data:`WORKLOADS`."""
    if not names:
        return WORKLOADS
    known = {w.name for w in WORKLOADS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown workloads {unknown}; known: {sorted(known)}")
    return tuple(w for w in WORKLOADS if w.name in names)
