"""The fetcher: the proxy's only upstream client, holding the last good version of every known document.

Single flight: a document has at most one upstream request in progress, and the refresher starts the
next one a refresh interval after the last started, so the upstream sees one request per document per
interval however many clients and workers ask. A document the upstream does not have is remembered as
a miss for one interval (clients get 404 meanwhile without an upstream request), then forgotten; the
known and the missing documents are both capped, so clients cannot make the proxy fetch unbounded
numbers of paths.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from feedproxy.documents import Version, content_hash, make_version
from feedproxy.upstream import Fetched, Upstream, fetch

#: Outcomes of a fetch that leave the cached version current.
GOOD_OUTCOMES = ("updated", "unchanged", "not_modified")


@dataclass(frozen=True)
class Miss:
    """A document the proxy cannot serve now: the HTTP status for clients, until when (unix time)."""

    key: str
    status: int
    reason: str
    until: float


@dataclass
class DocumentState:
    key: str
    version: Version | None = None
    upstream_etag: str | None = None
    upstream_last_modified: str | None = None
    #: unix time the upstream last confirmed the version (a good 200 or a 304)
    validated_at: float = 0.0
    attempted_at: float = 0.0
    next_due: float = 0.0
    last_outcome: str = ""
    last_detail: str = ""
    in_flight: asyncio.Task[None] | None = None
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class FetcherSettings:
    refresh: float = 10.0
    timeout: float = 5.0
    max_bytes: int = 16 * 1024 * 1024
    max_documents: int = 5000
    concurrency: int = 8


class Listener:
    """What the fetcher tells the workers; the coordinator broadcasts each call."""

    def version(self, version: Version, validated_at: float) -> None: ...
    def fresh(self, key: str, validated_at: float) -> None: ...
    def missing(self, miss: Miss) -> None: ...


class Fetcher:
    def __init__(
        self,
        upstream: Upstream,
        settings: FetcherSettings,
        listener: Listener,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.upstream = upstream
        self.settings = settings
        self.listener = listener
        self.clock = clock
        self.documents: dict[str, DocumentState] = {}
        self.misses: dict[str, Miss] = {}
        self.first_fetch_failures: Counter[str] = Counter()
        self.refused_new: int = 0
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="upstream")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- clients ask --------------------------------------------------------------------------------

    async def want(self, key: str) -> Version | Miss:
        """The current version of ``key``, fetching it first if it is new; a Miss if there is none.

        Concurrent askers of a new key share one upstream request (single flight), and a key the upstream
        does not have (404) is remembered as a miss for one refresh interval, so the upstream sees at
        most one request per interval for it however many clients ask.
        """
        state = self.documents.get(key)
        if state is not None and state.version is not None:
            return state.version
        if state is not None and state.in_flight is not None:
            await asyncio.shield(state.in_flight)
            return state.version or self.misses.get(key) or Miss(key, 502, "failed", self.clock() + 1.0)
        now = self.clock()
        miss = self.misses.get(key)
        if miss is not None and miss.until > now:
            return miss
        if len(self.documents) >= self.settings.max_documents or not self._room_for_miss(now):
            self.refused_new += 1
            return Miss(key, 503, "too_many_documents", now + 1.0)
        state = DocumentState(key)
        self.documents[key] = state
        state.in_flight = asyncio.create_task(self._first_fetch(state))
        await asyncio.shield(state.in_flight)
        return state.version or self.misses.get(key) or Miss(key, 502, "failed", self.clock() + 1.0)

    async def _first_fetch(self, state: DocumentState) -> None:
        """Fetch a new key; on failure forget it and record the miss before any waiter wakes up."""
        await self._refresh(state)
        if state.version is not None:
            return
        key = state.key
        del self.documents[key]
        status = {"not_found": 404, "timeout": 504}.get(state.last_outcome, 502)
        self.first_fetch_failures[state.last_outcome] += 1
        self.listener.missing(self._miss(key, status, state.last_outcome, self.settings.refresh))

    def _miss(self, key: str, status: int, reason: str, ttl: float) -> Miss:
        miss = Miss(key, status, reason, self.clock() + ttl)
        self.misses[key] = miss
        return miss

    def _room_for_miss(self, now: float) -> bool:
        if len(self.misses) < self.settings.max_documents:
            return True
        for key in [key for key, miss in self.misses.items() if miss.until <= now]:
            del self.misses[key]
        return len(self.misses) < self.settings.max_documents

    # --- the refresher ------------------------------------------------------------------------------

    async def run_refresher(self) -> None:
        """Forever: start the refresh of every known document that is due (one in flight per document)."""
        tick = min(0.2, self.settings.refresh / 5)
        while True:
            now = self.clock()
            for state in list(self.documents.values()):
                if state.version is not None and state.in_flight is None and now >= state.next_due:
                    state.in_flight = asyncio.create_task(self._refresh(state))
            await asyncio.sleep(tick)

    async def _refresh(self, state: DocumentState) -> None:
        loop = asyncio.get_running_loop()
        state.attempted_at = self.clock()
        version = state.version
        try:
            started, fetched = await loop.run_in_executor(
                self._pool,
                partial(
                    self._timed_fetch,
                    self.upstream,
                    state.key,
                    etag=state.upstream_etag if version else None,
                    last_modified=state.upstream_last_modified if version else None,
                    expected_root=version.root if version else None,
                    timeout=self.settings.timeout,
                    max_bytes=self.settings.max_bytes,
                ),
            )
            # The interval counts from when the request went out (it may have waited for a free thread).
            state.attempted_at = started
            state.next_due = started + self.settings.refresh
            await self._apply(state, fetched, loop)
        finally:
            state.in_flight = None

    def _timed_fetch(self, *args: Any, **kwargs: Any) -> tuple[float, Fetched]:
        started = self.clock()
        return started, fetch(*args, **kwargs)

    async def _apply(self, state: DocumentState, fetched: Fetched, loop: asyncio.AbstractEventLoop) -> None:
        now = self.clock()
        if fetched.failed:
            outcome = fetched.outcome
        elif fetched.outcome == "not_modified":
            outcome = "not_modified" if state.version is not None else "status"
        elif state.version is not None and content_hash(fetched.body) == state.version.etag.strip('"'):
            outcome = "unchanged"
        else:
            outcome = "updated"
        state.outcomes[outcome] += 1
        state.last_outcome = outcome
        state.last_detail = fetched.detail
        if outcome not in GOOD_OUTCOMES:
            return
        state.validated_at = now
        if fetched.etag or fetched.last_modified:
            state.upstream_etag, state.upstream_last_modified = fetched.etag, fetched.last_modified
        if outcome == "updated":
            state.version = await loop.run_in_executor(
                self._pool,
                partial(
                    make_version,
                    state.key,
                    fetched.body,
                    fetched.content_type,
                    fetched.root or "",
                    last_modified=fetched.last_modified,
                    now=now,
                ),
            )
            self.listener.version(state.version, now)
        else:
            self.listener.fresh(state.key, now)

    # --- reporting ----------------------------------------------------------------------------------

    def is_stale(self, state: DocumentState, now: float) -> bool:
        """The served version is not known to be current: the last refresh failed, or it is overdue."""
        if state.version is None:
            return False
        overdue = now - state.validated_at > 2 * self.settings.refresh + self.settings.timeout
        return overdue or state.last_outcome not in GOOD_OUTCOMES

    def health(self, now: float) -> dict[str, Any]:
        documents = {}
        for key, state in sorted(self.documents.items()):
            if state.version is None:
                continue
            documents[key] = {
                "stale": self.is_stale(state, now),
                "age_seconds": round(now - state.validated_at, 3),
                "validated_at": state.validated_at,
                "last_attempt_at": state.attempted_at,
                "last_outcome": state.last_outcome,
                "last_detail": state.last_detail,
                "etag": state.version.etag,
                "root": state.version.root,
                "bytes": len(state.version.body),
                "fetches": dict(state.outcomes),
            }
        return documents
