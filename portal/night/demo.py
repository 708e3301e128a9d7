"""The demo's feed snapshot (``make run``): the allowlist of the next election, plus this computer.

The address validator refuses loopback in every real snapshot; the demo proxy runs with the test-only
``--allow-loopback-clients`` so that a newcomer's browser on 127.0.0.1 is served like an outlet.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from allowlist.phase import Phase
from allowlist.snapshot import sign_document
from portal.access import allowlist
from portal.elections.models import Election
from portal.elections.service import all_elections, phase

THIS_COMPUTER = "Demo: this computer"
LOOPBACK = "127.0.0.1"


def demo_election(at: datetime) -> Election | None:
    """The election the demo proxy serves: the first one not closed yet."""
    open_ones = [e for e in all_elections() if phase(e, at) is not Phase.CLOSED and e.rounds]
    return min(open_ones, key=lambda e: e.rounds[0].processing_starts_at, default=None)


def write_demo_snapshot(election: Election, folder: Path, *, at: datetime) -> Path:
    """Sign and write the snapshot with 127.0.0.1 as a production address; returns its path."""
    published = allowlist.publish(election, at=at, key=allowlist.signing_key())
    document = dict(published.document)
    entries = [e for e in document["entries"] if e["address"] != LOOPBACK]  # type: ignore[union-attr]
    entries.append(
        {"address": LOOPBACK, "kind": "production", "organisation": THIS_COMPUTER, "organisation_id": 999_999}
    )
    document["entries"] = entries
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "allowlist-public.pem").write_bytes(allowlist.public_key_pem())
    signed = sign_document(document, allowlist.signing_key())
    path = folder / "snapshot.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(json.dumps(signed, ensure_ascii=False, indent=1).encode())
    temporary.replace(path)
    return path
