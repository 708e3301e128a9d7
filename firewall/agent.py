"""The pull agent: keeps the portal's signed allowlist snapshot applied on this host, portal up or down.

Each wake-up it polls ``GET {portal}/api/v1/elections/{code}/allowlist`` (``If-None-Match`` the ETag it
applied) and applies a changed snapshot with ``firewall.apply.apply``; between polls it re-applies the last
good snapshot at each phase boundary (every live window's start and end, and ``closes_at``), so the phase
follows the clock even while the portal is away. It wakes at ``min(next poll, next boundary)``.

Nothing that fails verification is applied: a body cut short, too large, not JSON, unsigned, wrongly
signed, of another election or refused by ``load_snapshot`` is reported as ``refused`` and the ruleset
in force stays; so does a snapshot that ``apply``'s brakes refuse (an older version, a large drop). The
last applied snapshot is kept, verbatim, in ``<state-dir>/agent-snapshot.json`` and verified again on
start, so a restart without the portal still enforces the boundaries. What is in force is always read
from the state directory's history (``firewall.apply``), never assumed.

After every apply, refusal and error, and as a heartbeat at most once a minute on an unchanged poll, it
posts a report to ``{portal}/api/v1/elections/{code}/allowlist/reports``; a report that does not arrive
is a logged warning, never a failure. Fetch errors and refusals back off (the interval doubles up to
``max_backoff``, ±10 % jitter); success resets the interval.

Everything that touches the outside world is injected (``now``, ``sleep``, ``send``, ``nft``), so the
loop is tested without sleeping; the time keeping is in small pure functions.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allowlist.addresses import DEFAULT_POLICY, AddressPolicy
from allowlist.phase import admits_test_addresses, boundaries
from allowlist.snapshot import ELECTION_CODE, Snapshot, SnapshotError, format_time, load_snapshot
from firewall import apply as applying
from firewall.errors import ApplyRefused, FirewallError, NftError, RenderError
from firewall.render import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_FAMILY,
    DEFAULT_PORTS,
    DEFAULT_TABLE,
    RENEW_CAPPED_TIMEOUTS_AFTER,
    build,
    timeouts_capped,
)
from firewall.transport import HttpResponse, Send, TransportError, urllib_send

DEFAULT_INTERVAL = 10.0
DEFAULT_MAX_BACKOFF = 300.0
HEARTBEAT_SECONDS = 60.0
DETAIL_MAX = 500
JITTER = 0.1
SNAPSHOT_FILE = "agent-snapshot.json"
LOCK_FILE = "agent.lock"
TOKEN_ENV = "CSU_PORTAL_TOKEN"  # noqa: S105 - the name of the variable, not a token
USER_AGENT = "csu-firewall-agent/1"
#: The longest a real sleep goes without looking whether SIGTERM asked it to stop.
SLEEP_SLICE_SECONDS = 0.5

Status = Literal["applied", "unchanged", "refused", "failed", "unreachable"]
IN_ORDER: tuple[Status, ...] = ("applied", "unchanged")
#: Outcomes after which the poll has weighed the phase and the table already (enforce would only repeat it).
_RECONCILED: tuple[Status, ...] = ("applied", "unchanged", "failed")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConfigError(FirewallError):
    """The agent cannot run as configured (a bad URL, election code or token; a busy state directory)."""


# --- time keeping (pure) --------------------------------------------------------------------------------


def boundary_crossed(bounds: Sequence[datetime], since: datetime, now: datetime) -> datetime | None:
    """The latest boundary in ``(since, now]``: one passed after the ruleset in force was written."""
    crossed = [instant for instant in bounds if since < instant <= now]
    return crossed[-1] if crossed else None


def next_wake(now: datetime, poll_due: datetime, bounds: Sequence[datetime]) -> datetime:
    """When to wake up next: the poll that is due, or the next phase boundary if that comes first."""
    boundary = next((instant for instant in bounds if instant > now), None)
    return poll_due if boundary is None else min(poll_due, boundary)


def backoff_seconds(interval: float, failures: int, max_backoff: float, jitter: float) -> float:
    """The wait after ``failures`` failed polls in a row: ``interval`` doubled per failure up to ``max_backoff``,
    then spread by ±10 % (``jitter`` in [0, 1)) so that many hosts do not come back at the same instant."""
    if failures <= 0:
        return interval
    base = min(interval * 2.0 ** min(failures, 32), max_backoff)
    return base * (1 - JITTER + 2 * JITTER * jitter)


# --- configuration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentConfig:
    portal: str  #: base URL, http or https
    election: str
    public_key: Ed25519PublicKey
    token: str = field(repr=False)
    host: str = field(default_factory=socket.gethostname)
    state_dir: Path = applying.DEFAULT_STATE_DIR
    interval: float = DEFAULT_INTERVAL
    max_backoff: float = DEFAULT_MAX_BACKOFF
    ports: tuple[int, ...] = DEFAULT_PORTS
    table: str = DEFAULT_TABLE
    family: str = DEFAULT_FAMILY
    max_drop_share: float = applying.DEFAULT_MAX_DROP_SHARE
    policy: AddressPolicy = DEFAULT_POLICY
    #: Open connections per source address to the protected ports (``ct count``); 0: no cap.
    connection_limit: int = DEFAULT_CONNECTION_LIMIT

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.portal)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("portal_url", f"--portal {self.portal!r} is not an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ConfigError("portal_url", f"--portal {self.portal!r}: give the base URL, without ? or #")
        if not ELECTION_CODE.fullmatch(self.election):
            raise ConfigError("election", f"--election {self.election!r} is not an election code")
        if not self.token or not all(33 <= ord(c) <= 126 for c in self.token):
            raise ConfigError("token", "the token is empty or holds spaces or control characters")
        if not 0 < self.interval <= self.max_backoff:
            raise ConfigError("interval", "the interval is positive and at most --max-backoff")

    @property
    def allowlist_url(self) -> str:
        return f"{self.portal.rstrip('/')}/api/v1/elections/{self.election}/allowlist"

    @property
    def reports_url(self) -> str:
        return f"{self.allowlist_url}/reports"


# --- the agent ------------------------------------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


@dataclass
class _Away:
    """The portal has not answered since ``since``."""

    since: datetime
    attempts: int
    error: str


class Agent:
    """One host's agent: ``run()`` until stopped, or ``once()``; ``step()`` is one wake-up."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        nft: Sequence[str] = applying.NFT,
        send: Send = urllib_send,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] = random.random,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.nft = tuple(nft)
        self.send = send
        self.now = now
        self.sleep = sleep or self._sleep_unless_stopped
        self.jitter = jitter
        self.log = log or _log_to_stderr
        #: the last good snapshot: the one applied (or found in force), kept for the boundaries
        self.snapshot: Snapshot | None = None
        self.snapshot_bytes: bytes | None = None
        #: the ETag of ``snapshot`` as the portal sent it; None until a 200 in this process
        self.etag: str | None = None
        self.poll_due = now()
        self.failures = 0
        self.last_report: datetime | None = None
        self.away: _Away | None = None
        self.stopping = False

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> None:
        """Load the stored snapshot and put it in force if a boundary passed (or the table went) meanwhile."""
        self._load_stored()
        record = self._in_force_or_none()
        self._event(
            "start",
            record,
            f"portal {self.config.portal} election {self.config.election} state {self.config.state_dir}; "
            f"stored snapshot: {f'version {self.snapshot.version}' if self.snapshot else 'none'}",
        )
        self.enforce(check_live=True)

    def step(self) -> float:
        """One wake-up: poll if due, else (or if the poll got no snapshot in) the stored snapshot's boundaries.

        Returns the seconds until the next wake-up: the next poll or the next boundary, whichever is first.
        """
        if self.now() < self.poll_due or self.poll() not in _RECONCILED:
            self.enforce()
        now = self.now()
        wake = next_wake(now, self.poll_due, boundaries(self.snapshot.schedule()) if self.snapshot else ())
        return max(0.0, (wake - now).total_seconds())

    def run(self) -> int:
        """Until SIGTERM/SIGINT (or ``stop()``), which end it between steps, never inside an apply."""
        with self._signals():
            self.start()
            while not self.stopping:
                delay = self.step()
                if not self.stopping:
                    self.sleep(delay)
        self._event("stop", self._in_force_or_none(), "")
        return 0

    def once(self) -> int:
        """One poll (and apply if needed): 0 when the host is in order, 1 when the fetch or the snapshot failed."""
        self.start()
        outcome = self.poll()
        late = self.enforce() if outcome not in _RECONCILED else None
        return 0 if outcome in IN_ORDER and late in (None, *IN_ORDER) else 1

    def stop(self) -> None:
        self.stopping = True

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)

    def _sleep_unless_stopped(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, SLEEP_SLICE_SECONDS))

    # --- polling ----------------------------------------------------------------------------------------

    def poll(self) -> Status:
        """Fetch the snapshot and put it in force if it changed (or the host drifted); schedules the next poll."""
        try:
            response = self.send("GET", self.config.allowlist_url, self._headers(get=True), None)
        except TransportError as error:
            if not error.answered:
                return self._poll_done(self._unreachable(error))
            self._answered()
            return self._poll_done(self._refused(error.code, error.detail))
        self._answered()
        try:
            snapshot, data = self._accept(response)
        except _Refusal as refusal:
            return self._poll_done(self._refused(refusal.code, refusal.detail))
        # A 304 need not repeat the ETag; a 200 without one is fetched whole next time.
        etag = response.headers.get("etag") or (self.etag if data is None else None)
        return self._poll_done(self._reconcile(snapshot, data, etag))

    def _headers(self, *, get: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.config.token}", "User-Agent": USER_AGENT}
        if get:
            headers["Accept"] = "application/json"
            if self.etag is not None and self.snapshot is not None:
                headers["If-None-Match"] = self.etag
        else:
            headers["Content-Type"] = "application/json"
        return headers

    def _accept(self, response: HttpResponse) -> tuple[Snapshot, bytes | None]:
        """The verified snapshot of an answer (``bytes`` None: 304, the one held), or _Refusal."""
        if response.status == 304:
            if self.snapshot is None or self.etag is None:
                raise _Refusal("http_304", "the portal answered 304 Not Modified to a request that had no ETag")
            return self.snapshot, None
        if response.status != 200:
            text = response.body[:200].decode("utf-8", "replace")
            said = "".join(c if c.isprintable() else " " for c in text).strip()
            raise _Refusal(f"http_{response.status}", f"the portal answered {response.status}: {said}")
        try:
            snapshot = load_snapshot(response.body, public_key=self.config.public_key, policy=self.config.policy)
        except SnapshotError as error:
            raise _Refusal(error.code, error.detail) from error
        if snapshot.election != self.config.election:
            raise _Refusal(
                "other_election", f"the snapshot is {snapshot.election}'s, this agent enforces {self.config.election}"
            )
        return snapshot, response.body

    def _poll_done(self, outcome: Status) -> Status:
        self.failures = 0 if outcome in IN_ORDER else self.failures + 1
        delay = backoff_seconds(self.config.interval, self.failures, self.config.max_backoff, self.jitter())
        self.poll_due = self.now() + timedelta(seconds=delay)
        return outcome

    def _unreachable(self, error: TransportError) -> Status:
        if self.away is None:
            self.away = _Away(self.now(), 0, "")
        self.away.attempts += 1
        self.away.error = error.detail
        self._event("unreachable", self._in_force_or_none(), f"{error.detail} (attempt {self.away.attempts})")
        return "unreachable"

    def _answered(self) -> None:
        """The portal answers again: report how long it was away, once."""
        if self.away is None:
            return
        away, self.away = self.away, None
        seconds = (self.now() - away.since).total_seconds()
        detail = (
            f"no answer for {seconds:.0f} s since {format_time(away.since)} ({away.attempts} attempts); "
            f"last error: {away.error}"
        )
        self._event("back", self._in_force_or_none(), detail)
        self._report("unreachable", detail)

    # --- putting a snapshot in force --------------------------------------------------------------------

    def _reconcile(self, snapshot: Snapshot, data: bytes | None, etag: str | None) -> Status:
        """Apply ``snapshot`` unless the state directory says it is in force for this instant already."""
        at = self.now()
        try:
            record = self._in_force()
            reason = self._why_apply(snapshot, record, at, check_live=True)
        except (FirewallError, OSError) as error:
            return self._failed(error)
        if reason is not None:
            return self._apply(snapshot, data, etag, at, reason)
        self._keep(snapshot, data, etag)
        if self.last_report is None or (at - self.last_report).total_seconds() >= HEARTBEAT_SECONDS:
            self._event("unchanged", record, "")
            self._report("unchanged", "")
        return "unchanged"

    def enforce(self, *, check_live: bool = False) -> Status | None:
        """Re-apply the stored snapshot when a phase boundary passed since it was written; None: nothing to do.

        Only when it is the version in force: another one there (applied by hand, say) is the poll's business.
        """
        snapshot = self.snapshot
        if snapshot is None:
            return None
        at = self.now()
        try:
            record = self._in_force()
            if record is not None and (record.election, record.version) != (snapshot.election, snapshot.version):
                return None
            reason = self._why_apply(snapshot, record, at, check_live=check_live)
        except (FirewallError, OSError) as error:
            return self._failed(error)
        if reason is None:
            return None
        return self._apply(snapshot, None, self.etag, at, reason)

    def _why_apply(
        self, snapshot: Snapshot, record: applying.Record | None, at: datetime, *, check_live: bool
    ) -> str | None:
        """Why ``snapshot`` must be applied at ``at``; None when ``record`` (in force) is it already."""
        if record is None:
            return "nothing is in force yet"
        if (record.election, record.version) != (snapshot.election, snapshot.version):
            return f"{record.election} version {record.version} in force, the portal has version {snapshot.version}"
        if (record.table, record.family) != (self.config.table, self.config.family):
            return f"table {record.family} {record.table} in force, configured {self.config.family} {self.config.table}"
        if _changed_under_same_version(self.snapshot, snapshot):
            return f"version {snapshot.version} changed its content without a new version number"
        phase = snapshot.phase_at(at).value
        if record.phase != phase:
            return f"phase {record.phase} in force, it is {phase} now"
        applied_at = datetime.fromisoformat(record.applied_at)
        crossed = boundary_crossed(boundaries(snapshot.schedule()), applied_at, at)
        if crossed is not None:
            return f"phase boundary at {format_time(crossed)}"
        if (
            admits_test_addresses(snapshot.phase_at(at))
            and at - applied_at >= RENEW_CAPPED_TIMEOUTS_AFTER
            and timeouts_capped(snapshot, applied_at)
        ):
            return f"test timeouts written at {record.applied_at} were capped: renewed"
        if check_live:
            if applying.read_table(self.config.family, self.config.table, nft=self.nft) is None:
                return f"table {self.config.family} {self.config.table} is missing (reboot or flush?)"
            ports = self._ports_in_force(record)
            if ports is not None and ports != tuple(self.config.ports):
                return f"ports {ports} in force, configured {tuple(self.config.ports)}"
        return None

    def _apply(self, snapshot: Snapshot, data: bytes | None, etag: str | None, at: datetime, reason: str) -> Status:
        config = self.config
        try:
            ruleset = build(
                snapshot,
                at,
                ports=config.ports,
                table=config.table,
                family=config.family,
                policy=config.policy,
                connection_limit=config.connection_limit,
            )
            # Written for the same instant whose phase it enforces: a boundary never falls in between.
            applied = applying.apply(
                ruleset, state_dir=config.state_dir, max_drop_share=config.max_drop_share, nft=self.nft, now=lambda: at
            )
        except (ApplyRefused, RenderError) as error:
            return self._refused(error.code, f"version {snapshot.version}: {error.detail}")
        except (FirewallError, OSError) as error:
            return self._failed(error, f"version {snapshot.version}: ")
        self._keep(snapshot, data, etag)
        detail = f"{reason}; version {applied.record.version} applied ({applied.record.phase})"
        self._event("applied", applied.record, detail)
        self._report("applied", detail)
        return "applied"

    def _refused(self, code: str, detail: str) -> Status:
        self._event("refused", self._in_force_or_none(), f"{code}: {detail}")
        self._report("refused", f"{code}: {detail}")
        return "refused"

    def _failed(self, error: FirewallError | OSError, prefix: str = "") -> Status:
        if isinstance(error, FirewallError):
            detail = f"{error.code}: {prefix}{error.detail}"
            if isinstance(error, NftError) and error.stderr.strip():
                detail += f" ({error.stderr.strip().splitlines()[0]})"
        else:
            detail = f"state: {prefix}{error}"
        self._event("failed", self._in_force_or_none(), detail)
        self._report("failed", detail)
        return "failed"

    # --- the state directory ----------------------------------------------------------------------------

    def _in_force(self) -> applying.Record | None:
        return applying.in_force(self.config.state_dir)  # what apply and rollback wrote

    def _in_force_or_none(self) -> applying.Record | None:
        with contextlib.suppress(FirewallError, OSError):
            return self._in_force()
        return None

    def _ports_in_force(self, record: applying.Record) -> tuple[int, ...] | None:
        try:
            state = json.loads(record.ruleset_path(self.config.state_dir).read_text(encoding="utf-8"))
            return tuple(int(port) for port in state["ports"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _keep(self, snapshot: Snapshot, data: bytes | None, etag: str | None) -> None:
        """Hold ``snapshot`` as the last good one, and its bytes on disk; the ETag only once they are there."""
        self.snapshot = snapshot
        if data is not None and data != self.snapshot_bytes:
            try:
                _write_bytes_atomic(self.config.state_dir / SNAPSHOT_FILE, data)
            except OSError as error:
                self._event("warning", self._in_force_or_none(), f"cannot store the snapshot: {error}")
                self.etag = None  # fetch it whole next time, and try again
                return
            self.snapshot_bytes = data
        self.etag = etag

    def _load_stored(self) -> None:
        path = self.config.state_dir / SNAPSHOT_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            self._event("warning", None, f"cannot read {path}: {error}")
            return
        try:
            snapshot = load_snapshot(data, public_key=self.config.public_key, policy=self.config.policy)
        except SnapshotError as error:
            self._event("warning", None, f"the stored snapshot {path} is refused ({error.code}): {error.detail}")
            return
        if snapshot.election != self.config.election:
            self._event("warning", None, f"the stored snapshot {path} is {snapshot.election}'s: ignored")
            return
        self.snapshot, self.snapshot_bytes = snapshot, data

    # --- reports and log --------------------------------------------------------------------------------

    def report_body(self, status: Status, detail: str) -> dict[str, Any]:
        """What the portal is told: the state of the host now, from the state directory and the live table."""
        record = self._in_force_or_none()
        counts: dict[str, int] = {}
        if record is not None:
            counts = dict(record.counts)
            with contextlib.suppress(NftError):
                live = applying.read_table(record.family, record.table, nft=self.nft)
                counts = {name: len(values) for name, values in live.sets.items()} if live is not None else {}
        return {
            "host": self.config.host,
            "status": status,
            "version": record.version if record else None,
            "phase": record.phase if record else None,
            "applied_at": record.applied_at if record else None,
            "detail": detail[:DETAIL_MAX],
            "entries": record.entries if record else None,
            "counts": counts,
        }

    def _report(self, status: Status, detail: str) -> None:
        self.last_report = self.now()
        body = json.dumps(self.report_body(status, detail)).encode("utf-8")
        try:
            response = self.send("POST", self.config.reports_url, self._headers(get=False), body)
        except TransportError as error:
            self._event("warning", None, f"the {status} report did not arrive: {error}")
            return
        if not 200 <= response.status < 300:
            self._event("warning", None, f"the portal answered {response.status} to the {status} report")

    def _event(self, event: str, record: applying.Record | None, detail: str) -> None:
        version = record.version if record else "-"
        phase = record.phase if record else "-"
        line = f"{format_time(self.now())} {event} version={version} phase={phase}"
        self.log(f"{line} {detail}" if detail else line)


def _changed_under_same_version(held: Snapshot | None, new: Snapshot) -> bool:
    """The portal never changes a published version; if it did, the new content is applied all the same."""
    if held is None or (held.election, held.version) != (new.election, new.version):
        return False
    return (held.entries, held.live_windows, held.closes_at) != (new.entries, new.live_windows, new.closes_at)


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def agent_lock(state_dir: Path) -> Iterator[None]:
    """One agent per state directory: a second one (or a cron ``--once`` beside the daemon) is refused."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(state_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            raise ConfigError("busy", f"another agent runs on {state_dir}") from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
