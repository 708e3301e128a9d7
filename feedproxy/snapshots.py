"""Where the allowlist snapshot comes from, and when a new one is taken.

A file (reloaded when its mtime, size or inode changes) or the portal's
``GET /api/v1/elections/<code>/allowlist`` (Bearer token, ETag / 304), polled every few seconds. Every
candidate goes through ``allowlist.snapshot.load_snapshot``: a document that is not authentic or not
valid is never loaded, the last good one stays, and the refusal is counted.

The election is fixed: the one given (``--election``), else the first snapshot's. A snapshot of
another election is refused like an older version, so a signed snapshot of some other (older, more
permissive) election cannot replace the one in force. A snapshot request follows no redirect: the
token goes to the configured URL and nowhere else.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allowlist.addresses import AddressPolicy
from allowlist.snapshot import KINDS, MAX_ORGANISATION_LENGTH, Entry, Snapshot, SnapshotError, load_snapshot


def load(
    data: bytes, *, public_key: Ed25519PublicKey | None, policy: AddressPolicy, allow_loopback: bool = False
) -> Snapshot:
    """``load_snapshot``; with the test-only ``allow_loopback``, loopback entries (127.0.0.0/8, ::1) too.

    The validator refuses loopback addresses, as it must for real snapshots. A refusal for a loopback
    entry comes after the signature was verified, so the switch then loads the rest through the same
    function and adds the loopback entries, checked field by field.
    """
    try:
        return load_snapshot(data, public_key=public_key, policy=policy)
    except SnapshotError as error:
        if not (allow_loopback and error.code == "bad_entry" and error.address_code == "loopback"):
            raise
    document = json.loads(data)
    loopback, others = [], []
    for entry in document["entries"]:
        address = entry.get("address") if isinstance(entry, dict) else None
        (loopback if isinstance(address, str) and _is_loopback(address) else others).append(entry)
    rest = {key: value for key, value in document.items() if key != "signature"}
    rest["entries"] = others
    snapshot = load_snapshot(json.dumps(rest).encode(), public_key=None, policy=policy)
    seen = {entry.address for entry in snapshot.entries}
    added = []
    for entry in loopback:
        added.append(_loopback_entry(entry, seen))
    return Snapshot(
        election=snapshot.election,
        version=snapshot.version,
        generated_at=snapshot.generated_at,
        live_windows=snapshot.live_windows,
        closes_at=snapshot.closes_at,
        entries=snapshot.entries + tuple(added),
    )


def _is_loopback(text: str) -> bool:
    try:
        return ip_address(text.strip()).is_loopback
    except ValueError:
        return False


def _loopback_entry(entry: dict[str, Any], seen: set[str]) -> Entry:
    address = str(ip_address(entry["address"].strip()))
    kind, organisation, organisation_id = entry.get("kind"), entry.get("organisation"), entry.get("organisation_id")
    if set(entry) != {"address", "kind", "organisation", "organisation_id"} or kind not in KINDS:
        raise SnapshotError("malformed", f"loopback entry {address}: fields or kind")
    if not isinstance(organisation, str) or len(organisation) > MAX_ORGANISATION_LENGTH:
        raise SnapshotError("malformed", f"loopback entry {address}: organisation")
    if isinstance(organisation_id, bool) or not isinstance(organisation_id, int) or organisation_id < 1:
        raise SnapshotError("malformed", f"loopback entry {address}: organisation_id")
    if address in seen:
        raise SnapshotError("duplicate_entry", f"loopback entry {address} repeats", address=address)
    seen.add(address)
    return Entry(address, kind, organisation, organisation_id)  # type: ignore[arg-type]


def table(snapshot: Snapshot) -> dict[str, Any]:
    """What a worker needs of a snapshot (``access.AccessTable``), as JSON."""
    return {
        "election": snapshot.election,
        "version": snapshot.version,
        "generated_at": snapshot.generated_at.isoformat(),
        "closes_at": snapshot.closes_at.timestamp(),
        "live_windows": [[w.round, w.starts_at.timestamp(), w.ends_at.timestamp()] for w in snapshot.live_windows],
        "entries": [[e.address, e.kind, e.organisation_id, e.organisation] for e in snapshot.entries],
    }


@dataclass
class SnapshotStatus:
    source: str
    snapshot: Snapshot | None = None
    loaded_at: float = 0.0
    checked_at: float = 0.0
    last_error: str = ""
    refused: Counter[str] = field(default_factory=Counter)

    def health(self, now: float) -> dict[str, Any]:
        snapshot = self.snapshot
        return {
            "source": self.source,
            "election": snapshot.election if snapshot else None,
            "version": snapshot.version if snapshot else None,
            "generated_at": snapshot.generated_at.isoformat() if snapshot else None,
            "entries": len(snapshot.entries) if snapshot else 0,
            "loaded_at": self.loaded_at,
            "age_seconds": round(now - snapshot.generated_at.timestamp(), 3) if snapshot else None,
            "checked_at": self.checked_at,
            "last_error": self.last_error,
            "refused": dict(self.refused),
        }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would send the Bearer token to another place."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


class SnapshotSource:
    """``poll()`` returns the bytes of a changed snapshot, None when unchanged; OSError when unreachable."""

    def __init__(self, location: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        self.location = location
        self.is_url = location.startswith(("http://", "https://"))
        self.token = token
        self.timeout = timeout
        self._file_stamp: tuple[int, int, int] | None = None
        self._etag: str | None = None

    def poll(self) -> bytes | None:
        return self._poll_url() if self.is_url else self._poll_file()

    def _poll_file(self) -> bytes | None:
        status = os.stat(self.location)
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        if stamp == self._file_stamp:
            return None
        data = Path(self.location).read_bytes()
        self._file_stamp = stamp
        return data

    def _poll_url(self) -> bytes | None:
        request = urllib.request.Request(self.location, headers={"Accept": "application/json"})  # noqa: S310
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if self._etag:
            request.add_header("If-None-Match", self._etag)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                data = response.read(16 * 1024 * 1024 + 1)
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return None
            if 300 <= error.code < 400:
                raise OSError(f"the portal answered HTTP {error.code} (a redirect; not followed)") from error
            raise OSError(f"the portal answered HTTP {error.code}") from error
        if len(data) > 16 * 1024 * 1024:
            raise OSError("the snapshot is larger than 16 MiB")
        self._etag = etag
        return data


class SnapshotKeeper:
    """Loads changed snapshots; the last good one stays when a new one is refused."""

    def __init__(
        self,
        source: SnapshotSource,
        *,
        public_key: Ed25519PublicKey | None,
        policy: AddressPolicy,
        allow_loopback: bool,
        clock: Callable[[], float],
        election: str | None = None,
    ) -> None:
        self.source = source
        #: the election served; None until the first snapshot fixes it
        self.election = election
        self.public_key = public_key
        self.policy = policy
        self.allow_loopback = allow_loopback
        self.clock = clock
        self.status = SnapshotStatus(source=source.location if not source.is_url else _redacted(source.location))

    def check(self) -> Snapshot | None:
        """A newly loaded snapshot, or None (unchanged, unreachable or refused: the status says which)."""
        now = self.clock()
        self.status.checked_at = now
        try:
            data = self.source.poll()
        except OSError as error:
            self.status.refused["unreachable"] += 1
            self.status.last_error = f"unreachable: {error}"
            return None
        if data is None:
            return None
        try:
            snapshot = load(data, public_key=self.public_key, policy=self.policy, allow_loopback=self.allow_loopback)
        except (SnapshotError, ValueError, KeyError, TypeError) as error:
            code = error.code if isinstance(error, SnapshotError) else "malformed"
            self.status.refused[code] += 1
            self.status.last_error = f"refused ({code}): {error}"
            return None
        if self.election is not None and snapshot.election != self.election:
            self.status.refused["other_election"] += 1
            self.status.last_error = f"refused: a snapshot of {snapshot.election}, this proxy serves {self.election}"
            return None
        current = self.status.snapshot
        if current is not None and snapshot.version < current.version:
            self.status.refused["older_version"] += 1
            self.status.last_error = f"refused: version {snapshot.version} is older than {current.version}"
            return None
        self.election = snapshot.election
        self.status.snapshot = snapshot
        self.status.loaded_at = now
        self.status.last_error = ""
        return snapshot


def _redacted(url: str) -> str:
    return url.split("?", 1)[0]
