"""The demo's feed snapshot (``make run``): the allowlist of the next election, plus this computer.

The address validator refuses loopback in every real snapshot; the demo proxy runs with the test-only
``--allow-loopback-clients`` so that a newcomer's browser on 127.0.0.1 is served like an outlet.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from allowlist.phase import Phase
from allowlist.snapshot import sign_document
from portal.access import allowlist
from portal.elections.models import Election
from portal.elections.service import all_elections, phase
from portal.extensions import db

THIS_COMPUTER = "Demo: this computer"
LOOPBACK = "127.0.0.1"
#: The demo outlet of ``portal seed demo``: this computer polls the proxy in its name (``portal demo poll``).
DEMO_OUTLET_ICO = "26439395"


def demo_election(at: datetime) -> Election | None:
    """The election the demo proxy serves: the first one not closed yet."""
    open_ones = [e for e in all_elections() if phase(e, at) is not Phase.CLOSED and e.rounds]
    return min(open_ones, key=lambda e: e.rounds[0].processing_starts_at, default=None)


def demo_outlet() -> tuple[int, str]:
    """(id, name) under which the proxy counts this computer: the demo outlet when seeded."""
    from portal.accounts.models import Organisation

    outlet = db.session.scalar(select(Organisation).where(Organisation.ico == DEMO_OUTLET_ICO))
    return (outlet.id, outlet.name) if outlet else (999_999, THIS_COMPUTER)


def poll_forever(url: str, *, interval: float, stop: threading.Event, log: Callable[[str], None]) -> int:
    """GET ``url`` every ``interval`` seconds with its last ETag, as an outlet's client would; returns the
    number of requests made when ``stop`` is set. Failures are logged and polling goes on."""
    etag = ""
    requests = 0
    while not stop.is_set():
        request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})  # noqa: S310
        requests += 1
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - an http(s) URL, checked
                response.read()
                etag = response.headers.get("ETag", etag)
        except urllib.error.HTTPError as error:
            if error.code != 304:
                log(f"demo poll: {url}: HTTP {error.code}")
        except (urllib.error.URLError, OSError) as error:
            log(f"demo poll: {url}: {error}")
        stop.wait(interval)
    return requests


def write_demo_snapshot(election: Election, folder: Path, *, at: datetime) -> Path:
    """Sign and write the snapshot with 127.0.0.1 as a production address; returns its path."""
    published = allowlist.publish(election, at=at, key=allowlist.signing_key())
    document = dict(published.document)
    entries = [e for e in document["entries"] if e["address"] != LOOPBACK]  # type: ignore[union-attr]
    organisation_id, organisation = demo_outlet()
    entries.append(
        {"address": LOOPBACK, "kind": "production", "organisation": organisation, "organisation_id": organisation_id}
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
