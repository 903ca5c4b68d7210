"""The console under ``/console``: GraphiQL for fieldgate, the policy grid, the privacy centre.

The pages and their assets are files shipped inside the package (``fieldgate/console/``,
built from ``frontend/``), so the console works without any network. Every page talks to
``/graphql`` with the caller's own token; the JSON endpoints here answer what GraphQL does
not: who the token is and which purposes it may declare, ``explain`` for an operation, the
policy grid, and, in development only, tokens for the demo principals.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fieldgate.authz.matrix import PolicyMatrix, matrix_csv, policy_matrix
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import MANAGE_ACT, POLICY_OBJECT
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.demo.accounts import PARTNERS, STAFF_ROLES
from fieldgate.errors import FieldgateError
from fieldgate.http.auth import principal_of
from fieldgate.http.policy_grid import grid_html
from fieldgate.identity.issuance import issue_for_subject
from fieldgate.resolvers.context import Services
from fieldgate.schema.explain import explain_operation, parse_operation
from fieldgate.schema.extensions import declared_purpose
from fieldgate.schema.visibility import candidate_purposes

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
PAGES = {"graphiql": "graphiql.html", "policy": "policy.html", "privacy": "privacy.html"}
DEMO_USERS = ("alice", "bob")
READS_POLICY_PURPOSE = "COMPLIANCE"  # the DPO's purpose: the audit of processing
NO_STORE = {"cache-control": "no-store"}  # every answer of the API is the caller's own


def _principal(request: Request) -> Principal:
    return principal_of(request.scope)


def _refused(code: str, message: str, status: int) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status, headers=NO_STORE)


def may_read_policy(policy: Policy, principal: Principal) -> bool:
    """Those who manage the policy, and those who audit processing (the DPO)."""
    if principal.kind is not PrincipalKind.STAFF:
        return False
    return policy.may(principal.roles, POLICY_OBJECT, MANAGE_ACT) or policy.may_declare(
        principal.roles, READS_POLICY_PURPOSE
    )


class Console:
    """The console's routes over one set of services."""

    def __init__(self, services: Services, *, development: bool) -> None:
        self.services = services
        self.development = development
        self._grids: dict[tuple[str, str | None], PolicyMatrix] = {}

    def routes(self) -> list[BaseRoute]:
        """``/console`` and below; the demo tokens only in development."""
        routes: list[BaseRoute] = [
            Route("/console", self.index),
            Route("/console/api/principal", self.principal),
            Route("/console/api/explain", self.explain, methods=["POST"]),
            Route("/console/api/policy-grid", self.policy_grid),
            *(Route(f"/console/{name}", self.page) for name in PAGES),
            Mount("/console/assets", StaticFiles(directory=CONSOLE_DIR / "assets")),
        ]
        if self.development:
            routes.insert(1, Route("/console/api/demo-principals", self.demo_principals))
            routes.insert(2, Route("/console/api/demo-token", self.demo_token, methods=["POST"]))
        return routes

    async def index(self, _: Request) -> Response:
        return RedirectResponse("/console/graphiql", status_code=302)

    async def page(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        return FileResponse(CONSOLE_DIR / PAGES[name], media_type="text/html")

    async def principal(self, request: Request) -> Response:
        """Who the token is, the purposes it may declare (with their descriptions), and
        which pages apply to it."""
        principal = _principal(request)
        policy = self.services.policy
        vocabulary = policy.vocabulary
        purposes = [p for p in candidate_purposes(policy, principal) if p is not None]
        if principal.kind is PrincipalKind.ANONYMOUS:
            purposes = []
        return JSONResponse(
            {
                "kind": str(principal.kind),
                "name": principal.name,
                "roles": sorted(principal.roles),
                "purposes": [
                    {
                        "name": p,
                        "description": vocabulary.descriptions.get(p, ""),
                        "consent": p in vocabulary.needs_consent,
                    }
                    for p in purposes
                ],
                "defaultPurpose": "RIGHTS" if principal.kind is PrincipalKind.USER else None,
                "mayReadPolicy": may_read_policy(policy, principal),
                "development": self.development,
            },
            headers=NO_STORE,
        )

    async def explain(self, request: Request) -> Response:
        """The ``policy explain --query`` table for the caller's roles and this operation."""
        principal = _principal(request)
        try:
            body: dict[str, Any] = await request.json()
        except ValueError:
            return _refused("BAD_REQUEST", "send JSON: {query, purpose}", 400)
        source = body.get("query")
        purpose = body.get("purpose")
        if not isinstance(source, str) or not (purpose is None or isinstance(purpose, str)):
            return _refused("BAD_REQUEST", "send JSON: {query, purpose}", 400)
        services = self.services
        schema = services.schema._schema
        try:
            operation, fragments = parse_operation(schema, source)
            purpose = purpose or declared_purpose(operation, body.get("variables"))
            rows = explain_operation(
                schema,
                services.catalog,
                services.policy,
                principal.roles,
                purpose,
                operation,
                fragments,
            )
        except FieldgateError as refused:
            return _refused(refused.code, refused.message, 400)
        return JSONResponse(
            {
                "purpose": purpose,
                "rows": [
                    {
                        "field": r.field,
                        "level": r.level.value,
                        "other": r.other.value,
                        "own": r.owner.value if r.owner else None,
                        "assigned": r.assigned.value if r.assigned else None,
                        "mask": r.strategy.value if r.strategy else None,
                        "reason": r.reason.value if r.reason else None,
                        "rule": r.rule,
                    }
                    for r in rows
                ],
            },
            headers=NO_STORE,
        )

    async def policy_grid(self, request: Request) -> Response:
        """The grid of the live policy (and the shadow candidate's differences) as an HTML
        fragment, or ``?format=csv``; for those who may read the policy only."""
        principal = _principal(request)
        policy = self.services.policy
        if not principal.is_authenticated:
            return _refused("UNAUTHENTICATED", "sign in to read the policy", 401)
        if not may_read_policy(policy, principal):
            return _refused("FORBIDDEN", "the policy does not let this principal read it", 403)
        shadow = self.services.live.shadow
        candidate: Policy | None = None if shadow is None else shadow.candidate
        key = (policy.version, None if candidate is None else candidate.version)
        matrix = self._grids.get(key)
        if matrix is None:
            catalog = self.services.catalog
            matrix = await asyncio.to_thread(policy_matrix, catalog, policy, candidate=candidate)
            self._grids = {key: matrix}  # only the policy in force is worth keeping
        if request.query_params.get("format") == "csv":
            return PlainTextResponse(
                matrix_csv(matrix),
                media_type="text/csv",
                headers={
                    "content-disposition": 'attachment; filename="policy-matrix.csv"',
                    **NO_STORE,
                },
            )
        return Response(grid_html(matrix), media_type="text/html", headers=NO_STORE)

    async def demo_principals(self, _: Request) -> Response:
        """The demo accounts (development only): staff, the two named users, partners."""
        return JSONResponse(
            {
                "staff": [{"name": n, "roles": r.split()} for n, r in STAFF_ROLES.items()],
                "users": [{"name": n, "roles": ["user"]} for n in DEMO_USERS],
                "partners": [{"name": p.name, "roles": [p.kind]} for p in PARTNERS],
            }
        )

    async def demo_token(self, request: Request) -> Response:
        """A token for one demo account (development only; issued and audited as usual)."""
        try:
            body: dict[str, Any] = await request.json()
        except ValueError:
            return _refused("BAD_REQUEST", "send JSON: {name}", 400)
        name = body.get("name")
        known = {*STAFF_ROLES, *DEMO_USERS, *(p.name for p in PARTNERS)}
        if name not in known:
            return _refused("NOT_FOUND", "not a demo principal", 404)
        services = self.services
        try:
            token = await issue_for_subject(
                services.engine,
                services.tokens,
                str(name),
                ttl=services.settings.token_ttl,
                audit=services.audit,
            )
        except FieldgateError as refused:
            return _refused(refused.code, refused.message, 400)
        return JSONResponse({"token": token}, headers=NO_STORE)


def console_routes(services: Services, *, development: bool) -> list[BaseRoute]:
    """The console's routes (``FIELDGATE_CONSOLE``; demo tokens in development only)."""
    return Console(services, development=development).routes()
