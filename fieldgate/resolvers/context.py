"""What a resolver can reach: the application's services and the request's state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from graphql import GraphQLSchema
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from fieldgate.audit.events import AuditEvent
from fieldgate.audit.writer import AuditWriter
from fieldgate.authz.classification import Catalog
from fieldgate.authz.consent import SubjectFacts
from fieldgate.authz.disclosure import DisclosureContext
from fieldgate.authz.plans import CompiledRequest, PlanCache
from fieldgate.authz.policy import Policy
from fieldgate.authz.principal import Principal
from fieldgate.crypto.keyring import Keyring
from fieldgate.crypto.pseudonyms import PseudonymMasks
from fieldgate.documents.store import DocumentCheck
from fieldgate.errors import ServiceUnavailable
from fieldgate.identity.revocations import RevocationChecker
from fieldgate.identity.tokens import TokenService
from fieldgate.observability.metrics import Metrics
from fieldgate.policy_store.changes import PolicyAdministration
from fieldgate.policy_store.live import LivePolicy
from fieldgate.policy_store.watch import PolicyWatcher
from fieldgate.ratelimit.limiter import RateLimiter
from fieldgate.resolvers.groups import QuasiIdentifierGroups
from fieldgate.resolvers.outcomes import RequestOutcome
from fieldgate.resolvers.subjects import subject_facts_loader
from fieldgate.settings import Settings

SUBJECT_FACTS = "subject facts"  # the key of the request's loader of subject facts


class PrincipalView(Protocol):
    """One principal's view of the schema (``fieldgate.schema.views.SchemaView``)."""

    @property
    def sdl(self) -> str: ...

    @property
    def schema(self) -> GraphQLSchema: ...


class PrincipalViews(Protocol):
    """Each principal's view of the schema (``fieldgate.schema.views.SchemaViews``)."""

    def for_principal(self, principal: Principal, policy: Policy) -> PrincipalView | None: ...


@dataclass
class Services:
    """Built once at the composition root (``create_app``); shared by every request."""

    settings: Settings
    engine: AsyncEngine
    live: LivePolicy  # the policy in force and the shadow candidate: swapped while serving
    tokens: TokenService
    catalog: Catalog
    plans: PlanCache
    pseudonyms: PseudonymMasks  # each recipient's PSEUDONYM keys, from the data keyring
    groups: QuasiIdentifierGroups  # group sizes of the quasi-identifiers (K_ANONYMITY)
    relation_coordinates: frozenset[str]
    schema: strawberry.Schema
    revocations: RevocationChecker
    keyring: Keyring
    rate_limiter: RateLimiter
    disclosure_enabled: bool = True
    compiled_path: bool = True  # cached queries through fieldgate.schema.compiled
    sensitive_coordinates: frozenset[str] = frozenset()
    personal_coordinates: frozenset[str] = frozenset()
    encrypted_coordinates: frozenset[str] = frozenset()
    decrypt: Callable[[Any], Any] | None = None
    # the audit trail's queue; with auditing on and no writer, SENSITIVE FULL is refused
    audit: AuditWriter | None = None
    audit_enabled: bool = True  # off only to measure what auditing costs
    arguments_checked: bool = True  # off only to measure the argument check (and test it)
    subjects_asked: bool = True  # off only to measure what the per-row checks cost
    # counters others increment (rate limits, policy reloads) and the request metrics
    metrics: Metrics = field(default_factory=Metrics)
    # the policy's watcher and administration: only a serving application has them
    policy_watcher: PolicyWatcher | None = None
    policy_admin: PolicyAdministration | None = None
    schema_views: PrincipalViews | None = None  # None: every principal sees the full schema
    check_document: DocumentCheck | None = None  # what registerDocument checks a document by

    @property
    def policy(self) -> Policy:
        """The policy in force now (read it once per operation)."""
        return self.live.policy


@dataclass
class RequestContext:
    """One request: who asks, how strictly, and the request's loaders and disclosure."""

    services: Services
    principal: Principal
    request: Request | None = None
    strict: bool = False
    do_not_track: bool = False
    request_id: str | None = None
    disclosure: DisclosureContext | None = None
    operation_name: str | None = None  # for the request line, set before execution
    operation_type: str | None = None  # "query" or "mutation"
    outcome: RequestOutcome | None = None  # a refusal or fault the edge answers for
    loaders: dict[Any, DataLoader[Any, Any]] = field(default_factory=dict)
    compiled: CompiledRequest | None = None  # when the compiled path may answer

    @property
    def disclosed(self) -> DisclosureContext:
        if self.disclosure is None:  # the extension always sets it before execution
            raise RuntimeError("disclosure context missing")
        return self.disclosure

    def loader(
        self, key: Any, load: Callable[[list[Any]], Awaitable[Sequence[Any]]]
    ) -> DataLoader[Any, Any]:
        """The request's DataLoader for ``key``, created on first use."""
        existing = self.loaders.get(key)
        if existing is None:
            existing = DataLoader(load_fn=load)
            self.loaders[key] = existing
        return existing

    def audit_or_refuse(self, events: Sequence[AuditEvent]) -> None:
        """Queue a data-subject operation's audit events; call it inside the operation's
        transaction: when the trail cannot take them the operation fails and rolls back
        rather than go unrecorded."""
        services = self.services
        if not services.audit_enabled:
            return
        writer = services.audit
        if writer is None or not writer.healthy or not writer.submit(events):
            raise ServiceUnavailable("the audit trail cannot record this request; try again")

    async def subject_facts(self, subject_ids: list[int]) -> dict[int, SubjectFacts]:
        """Consents and ages of these data subjects: the pages asking together (a relation
        under each parent row) share one query."""
        loader = self.loaders.get(SUBJECT_FACTS)
        if loader is None:
            services = self.services
            gates = self.disclosure.gates if self.disclosure is not None else None
            groups = None
            if gates is not None and gates.counts_groups and gates.deidentified_purpose:
                purpose = gates.deidentified_purpose

                def groups() -> Awaitable[Mapping[int, int]]:
                    return services.groups.sizes(services.engine, purpose)

            loader = self.loaders[SUBJECT_FACTS] = subject_facts_loader(services.engine, groups)
        # shielded: one caller cancelled does not cancel the batch the others wait for
        facts = await asyncio.shield(loader.load_many(subject_ids))
        return dict(zip(subject_ids, facts, strict=True))

    async def fetch(self, statement: Select[Any]) -> Sequence[Mapping[str, Any]]:
        """Run a SELECT and return its rows as mappings keyed by column label."""
        async with self.services.engine.connect() as connection:
            result = await connection.execute(statement)
            rows: Sequence[Mapping[str, Any]] = result.mappings().all()
            return rows
