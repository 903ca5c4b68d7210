"""Keeping one instance's policy current: load it from its source, check it, swap it in.

Every accepted change adds a ``policy_revisions`` row. Each instance polls the newest revision
id (every ``policy_poll_seconds``, 0.5 s by default) and, with ``FIELDGATE_REDIS_URL``, is also
woken by a notification on :data:`~fieldgate.policy_store.notify.POLICY_CHANNEL`; on a new id
it reloads from its source (the folder, or ``policy_rules``). Swapping is one assignment of
``LivePolicy.policy``: a request reads it once, and plans are keyed by the policy version. A
reload that fails keeps the policy in force, logs ``policy_reload_failed`` and is counted.

With Redis, the watcher also keeps the shadow candidate set through ``setShadowPolicy`` on
any instance (:data:`~fieldgate.authz.shadow.SHADOW_KEY`) in ``LivePolicy.shadow``: it reads
the key on every tick and when notified. While Redis does not answer, nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from fieldgate.authz.classification import Catalog
from fieldgate.authz.lint import lint_policy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import MODEL_FILE, PURPOSES_FILE, load_policy, policy_from_lines
from fieldgate.authz.policy_rules import RULES_FILE, parse_lines
from fieldgate.authz.purposes import PurposeVocabulary
from fieldgate.authz.shadow import SHADOW_KEY, ShadowPolicy, SharedCandidate
from fieldgate.errors import PolicyError
from fieldgate.infra.faults import failure_reason
from fieldgate.infra.redis import REDIS_FAILURES, redis_client, redis_failure
from fieldgate.policy_store.database import DatabasePolicyStore
from fieldgate.policy_store.live import LivePolicy
from fieldgate.policy_store.notify import publish, subscribe

log = structlog.get_logger("fieldgate.policy")

_REDIS_RETRY_SECONDS = 1.0
_REDIS_TIMEOUT = 0.5  # no Redis call (the shadow candidate, a notification) holds a tick up
SHADOW_MESSAGE = "shadow"  # on the policy channel: the shared shadow candidate changed


def check_policy(catalog: Catalog, policy: Policy) -> None:
    """Raise :class:`PolicyError` listing every problem (``extensions.problems``) of
    ``policy`` against the schema's classification; return when it may go live."""
    problems = lint_policy(catalog, policy)
    if problems:
        raise PolicyError("the policy is refused: " + "; ".join(problems), problems=problems)


class PolicySource:
    """Where the rules come from: ``policy.csv`` in the folder, or the database."""

    def __init__(
        self, policy_dir: Path, vocabulary: PurposeVocabulary, store: DatabasePolicyStore | None
    ) -> None:
        self.policy_dir = policy_dir
        self.vocabulary = vocabulary
        self.store = store  # None: the folder's policy.csv

    @property
    def in_database(self) -> bool:
        return self.store is not None

    def candidate(self, lines: Sequence[str]) -> Policy:
        """A policy of ``lines`` with the folder's model (raises :class:`PolicyError`)."""
        return policy_from_lines(
            self._read(MODEL_FILE), lines, self.vocabulary, self._read(PURPOSES_FILE)
        )

    def folder_lines(self) -> list[str]:
        """The rules of the folder's ``policy.csv``, comments left out."""
        return [", ".join(line.values) for line in parse_lines(self._read(RULES_FILE))]

    async def load(self) -> Policy:
        """The current policy of the source (raises :class:`PolicyError` or a database error)."""
        if self.store is None:
            return await asyncio.to_thread(load_policy, self.policy_dir, self.vocabulary)
        return self.candidate(await self.store.read_rules())

    def _read(self, name: str) -> str:
        try:
            return (self.policy_dir / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise PolicyError(f"cannot read {name} in the policy folder") from None


class PolicyWatcher:
    """Applies revisions made anywhere to this instance's live policy, checked against the
    schema's ``catalog``; ``on_reload_failure`` counts each reload refused."""

    def __init__(
        self,
        live: LivePolicy,
        catalog: Catalog,
        source: PolicySource,
        store: DatabasePolicyStore,
        *,
        poll_seconds: float = 0.5,
        redis_url: str | None = None,
        on_reload_failure: Callable[[], None] | None = None,
    ) -> None:
        self.live = live
        self.catalog = catalog
        self.on_reload_failure = on_reload_failure
        self.source = source
        self.store = store
        self.poll_seconds = poll_seconds
        self.redis_url = redis_url
        self.revision = 0  # the newest revision this instance has applied
        self.reload_failures = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._watch_failing = False
        self._failed_revision = 0  # a failure is logged and counted once per revision
        self._redis = redis_client(redis_url, timeout=_REDIS_TIMEOUT) if redis_url else None
        self._shadow_seen: bytes | None = None  # SHADOW_KEY as last applied (None: absent)
        self._shadow_wake = asyncio.Event()

    async def start(self) -> None:
        """Seed an empty database policy, load the source's policy, then watch.

        With the policy in the database, an unreadable or invalid one stops the start:
        serving the folder's rules instead could disclose what the database policy denies.
        """
        if self.source.in_database:
            folder = self.source.candidate(self.source.folder_lines())
            await self.store.seed(folder.rule_lines(), version=folder.version)
        with contextlib.suppress(Exception):  # no revisions table yet: polling says so
            self.revision = await self.store.newest_revision()
        if self.source.in_database:
            policy = await self.source.load()
            check_policy(self.catalog, policy)
            self.live.policy = policy
        self._tasks.append(asyncio.create_task(self._poll(), name="policy-poll"))
        if self.redis_url:
            self._tasks.append(asyncio.create_task(self._listen(), name="policy-notify"))
            self._tasks.append(asyncio.create_task(self._watch_shadow(), name="shadow-watch"))

    async def stop(self) -> None:
        """Stop polling and listening."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()

    def swap(self, policy: Policy, revision: int) -> str:
        """Put ``policy`` in force (already checked); returns the version it replaced."""
        old = self.live.policy.version
        self.live.policy = policy
        self.revision = max(self.revision, revision)
        if old != policy.version:
            log.info("policy_swapped", old=old, new=policy.version, revision=self.revision)
        return old

    async def notify(self, revision: int) -> None:
        """Tell the other instances now (best effort: they poll anyway)."""
        if self._redis is None:
            return
        try:
            await publish(self._redis, str(revision))
        except REDIS_FAILURES as exc:
            log.warning("policy_notify_failed", reason=redis_failure(exc))

    async def share_shadow(self, shadow: ShadowPolicy | None) -> None:
        """Make this instance's candidate (``None``: no candidate) every instance's, through
        Redis; best effort: without Redis it holds on this instance only."""
        if self._redis is None:
            return
        shared = None if shadow is None else SharedCandidate.of(shadow.candidate).encode()
        previous = self._shadow_seen
        self._shadow_seen = None if shared is None else shared.encode()  # applied here already
        try:
            if shared is None:
                await self._redis.delete(SHADOW_KEY)
            else:
                await self._redis.set(SHADOW_KEY, shared)
        except REDIS_FAILURES:
            self._shadow_seen = previous  # Redis keeps the old one: this instance keeps its own
            log.warning("shadow_share_failed", reason="redis_unavailable")
            return
        try:
            await publish(self._redis, SHADOW_MESSAGE)
        except REDIS_FAILURES as exc:
            log.warning("shadow_notify_failed", reason=redis_failure(exc))  # they poll

    async def sync_shadow(self) -> None:
        """Apply the candidate of :data:`SHADOW_KEY` when it changed; an absent key after a
        present one stops shadowing. Raises a Redis error and changes nothing then."""
        assert self._redis is not None
        raw = await self._redis.get(SHADOW_KEY)
        seen = raw if isinstance(raw, bytes) else None
        if seen == self._shadow_seen:
            return
        self._shadow_seen = seen
        if seen is None:
            self.live.shadow = None
            log.info("shadow_policy_cleared")
            return
        try:
            shared = SharedCandidate.decode(seen)
            candidate = self.source.candidate(shared.lines)
            if candidate.version != shared.version:  # the setter checked exactly these rules
                await asyncio.to_thread(check_policy, self.catalog, candidate)
        except (ValueError, PolicyError) as exc:  # keep the current candidate, and say so
            log.error("shadow_policy_refused", reason=failure_reason(exc))
            return
        if self._shadow_seen != seen:
            return  # a newer candidate was set here while this one was checked
        self.live.shadow = ShadowPolicy(candidate)
        log.info("shadow_policy_set", candidate=candidate.version)

    async def check_now(self) -> bool:
        """Reload when a newer revision exists; False when the reload failed.

        The schema check (``lint_policy``, about half a second) is skipped when the rules
        hash to the version the revision recorded: an instance checked exactly these rules
        before writing them. Rules written any other way are checked in full.
        """
        newest, version = await self.store.newest()
        if newest <= self.revision:
            return True
        try:
            policy = await self.source.load()
            if policy.version != version:
                await asyncio.to_thread(check_policy, self.catalog, policy)
        except Exception as exc:  # keep serving the policy in force, and say so
            if newest != self._failed_revision:
                self._failed_revision = newest
                self._reload_failed(exc, newest)
            if isinstance(exc, PolicyError):
                self.revision = newest  # invalid rules stay invalid: wait for the next revision
            return False
        self.swap(policy, newest)
        return True

    def _reload_failed(self, exc: Exception, revision: int) -> None:
        self.reload_failures += 1
        problems = exc.extensions.get("problems", []) if isinstance(exc, PolicyError) else []
        log.error(
            "policy_reload_failed",
            revision=revision,
            kept=self.live.policy.version,
            reason=failure_reason(exc),
            problems=len(problems),
        )
        if self.on_reload_failure is not None:
            self.on_reload_failure()

    async def _poll(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                await self.check_now()
            except Exception as exc:  # the database is down: try again on the next tick
                if not self._watch_failing:
                    log.error("policy_watch_failed", reason=failure_reason(exc))
                self._watch_failing = True
                continue
            self._watch_failing = False

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async for _ in subscribe(self._redis):
                    self._wake.set()
                    self._shadow_wake.set()
            except REDIS_FAILURES as exc:
                log.warning("policy_notify_unavailable", reason=redis_failure(exc))
            await asyncio.sleep(_REDIS_RETRY_SECONDS)

    async def _watch_shadow(self) -> None:
        while True:
            try:
                await self.sync_shadow()
            except REDIS_FAILURES:
                pass  # /readyz reports Redis; the next tick tries again
            except Exception as exc:  # keep watching: the next change may apply
                log.error("shadow_watch_failed", reason=failure_reason(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._shadow_wake.wait(), self.poll_seconds)
            self._shadow_wake.clear()
