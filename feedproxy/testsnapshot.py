"""Throw-away signed snapshots for the benchmark and the tests (never for production).

Loopback entries need ``feedproxy serve --allow-loopback-clients``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from allowlist.phase import LiveWindow
from allowlist.snapshot import Entry, Snapshot, sign_document, snapshot_document

#: (address, kind, organisation_id, organisation)
Row = tuple[str, str, int, str]


def signed_snapshot(
    key: Ed25519PrivateKey,
    rows: Sequence[Row],
    *,
    version: int = 1,
    election: str = "prez2028",
    live_windows: Sequence[tuple[datetime, datetime]] = (),
    closes_at: datetime | None = None,
    now: datetime | None = None,
) -> bytes:
    """The signed JSON of a snapshot with these entries; by default testing now and for a week."""
    now = now or datetime.now(UTC)
    snapshot = Snapshot(
        election=election,
        version=version,
        generated_at=now,
        live_windows=tuple(LiveWindow(i + 1, start, end) for i, (start, end) in enumerate(live_windows)),
        closes_at=closes_at or now + timedelta(days=7),
        entries=tuple(
            Entry(address, kind, organisation, organisation_id) for address, kind, organisation_id, organisation in rows
        ),  # type: ignore[arg-type]
    )
    return json.dumps(sign_document(snapshot_document(snapshot), key), ensure_ascii=False).encode("utf-8")


def write_public_key(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path
