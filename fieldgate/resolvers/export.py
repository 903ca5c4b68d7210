"""The data subject's export: everything the owner may read about themselves, as one JSON
document, read through the same disclosure engine as the owner's own queries.

The export runs ordinary GraphQL operations as the caller (purpose RIGHTS): the owner's
masks apply (an ID number and a bank card leave masked), fields outside the schema (the
biometric face template, password hashes, blind indexes) are never in it, and each
operation is audited like any other. It needs the account's password (step-up).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from strawberry.types import Info

from fieldgate.audit.events import Actor, RightsRequest, rights_request_event
from fieldgate.errors import FieldgateError, ServiceUnavailable
from fieldgate.identity.step_up import confirm_password
from fieldgate.resolvers.arguments import require_user
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]

PROFILE = """
query Export {
  me {
    id username nickname avatarUrl region phone email realName idNumber birthDate gender
    jobTitle company education realNameVerified createdAt
    devices { id model os imei mac ip lastSeenAt }
    loginEvents { id ip city at succeeded }
    enrollments { id course { id title } progress studyMinutes completed enrolledAt }
    thirdPartyLogins { id provider externalNickname boundAt }
  }
  myConsents { purpose grantedAt withdrawnAt guardianConsent active }
}
"""
ORDERS = """
query ExportOrders($after: String) {
  orders(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id orderNo status amountCents createdAt buyerName buyerPhone buyerIdNumber bankCard
      deliveryAddress invoiceTitle invoiceTaxId remarks
      items { id course { id title } quantity priceCents }
    } }
  }
}
"""
TICKETS = """
query ExportTickets($after: String) {
  tickets(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id subject status createdAt contactPhone contactEmail order { id orderNo }
      messages { id authorKind body createdAt }
    } }
  }
}
"""
WITHHELD = "FORBIDDEN_FIELD"  # a field the engine withholds from its owner: null, listed


class _Operations:
    """The export's operations, run as the caller with a context of their own each."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.withheld: set[str] = set()

    async def run(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        ctx = self.ctx
        context = RequestContext(
            ctx.services,
            ctx.principal,
            do_not_track=ctx.do_not_track,
            request_id=ctx.request_id,
            operation_type="query",
        )
        result = await ctx.services.schema.execute(
            document, variable_values=variables, context_value=context
        )
        for error in result.errors or ():
            extensions = error.extensions or {}
            if extensions.get("code") != WITHHELD:
                if extensions.get("code") == ServiceUnavailable.code:
                    raise ServiceUnavailable("the audit trail cannot record the export now")
                raise FieldgateError("the export could not be read")
            self.withheld.add(str(extensions.get("field")))
        if result.data is None:
            raise FieldgateError("the export could not be read")
        return result.data

    async def pages(self, document: str, root: str) -> list[Any]:
        """Every row of a connection, page after page."""
        nodes: list[Any] = []
        after: str | None = None
        while True:
            page = (await self.run(document, {"after": after}))[root]
            nodes.extend(edge["node"] for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["pageInfo"]["endCursor"]


async def export_my_data(info: Ctx, password: str | None = None) -> dict[str, Any]:
    """Everything the caller may read about themselves, as one JSON document (right of
    access); ``password`` is the step-up proof."""
    user_id = require_user(info)
    ctx = info.context
    async with ctx.services.engine.connect() as connection:
        await confirm_password(connection, user_id, password)
    operations = _Operations(ctx)
    mine = await operations.run(PROFILE)
    profile = dict(mine["me"] or {})
    relations = ("devices", "loginEvents", "enrollments", "thirdPartyLogins")
    document: dict[str, Any] = {
        "exportedAt": datetime.now(UTC).isoformat(),
        "profile": {k: v for k, v in profile.items() if k not in relations},
        **{name: profile.get(name) or [] for name in relations},
        "consents": mine["myConsents"],
        "orders": await operations.pages(ORDERS, "orders"),
        "supportTickets": await operations.pages(TICKETS, "tickets"),
    }
    document["withheld"] = sorted(operations.withheld)
    event = rights_request_event(
        Actor.of(ctx.principal), user_id, RightsRequest.EXPORT, request_id=ctx.request_id
    )
    ctx.audit_or_refuse([event])
    return document
