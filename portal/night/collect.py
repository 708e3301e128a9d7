"""Pulling ``/stats.json`` from the feed proxies into the portal (``portal feed collect``)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.elections.service import election_by_code
from portal.extensions import db
from portal.night.models import FeedAddress, FeedSample
from portal.night.stats import ProxyStats, StatsRefused, parse_stats
from portal.problems import PortalError

MAX_STATS_BYTES = 16 * 1024 * 1024
TIMEOUT_SECONDS = 5


class CollectError(PortalError):
    """A proxy could not be read, or its statistics were refused; nothing was stored for it. The text is
    for the operator's terminal and log (the command line shows it as it is)."""

    code = "collect_failed"


@dataclass(frozen=True)
class Collected:
    proxy: str
    election: str
    organisations: int
    addresses: int


def proxy_name(url: str) -> str:
    """How the board names a proxy: its host and port."""
    return urllib.parse.urlsplit(url).netloc or url


def fetch_stats(url: str) -> ProxyStats:
    """GET ``<url>/stats.json`` and parse it (CollectError on any failure)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CollectError(f"{url!r} is not an http:// or https:// URL")
    target = url.rstrip("/") + "/stats.json"
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
            data = response.read(MAX_STATS_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise CollectError(f"{target}: {error}") from error
    if len(data) > MAX_STATS_BYTES:
        raise CollectError(f"{target}: more than {MAX_STATS_BYTES} bytes")
    try:
        return parse_stats(data)
    except StatsRefused as error:
        raise CollectError(f"{target}: refused: {error}") from error


def store_stats(proxy: str, stats: ProxyStats, *, at: datetime) -> Collected:
    """One sample per organisation and the addresses' last-seen times, in the caller's transaction."""
    if stats.election is None:
        raise CollectError(f"{proxy} has no snapshot loaded yet: nothing to attribute")
    election = election_by_code(stats.election)
    if election is None:
        raise CollectError(f"{proxy} serves election {stats.election!r}, which the portal does not know")
    known = {
        row.address: row
        for row in db.session.scalars(
            select(FeedAddress).where(FeedAddress.election_id == election.id, FeedAddress.proxy == proxy)
        )
    }
    addresses = 0
    for organisation in stats.organisations:
        db.session.add(
            FeedSample(
                election_id=election.id,
                proxy=proxy,
                sampled_at=at,
                organisation_id=organisation.organisation_id,
                requests=organisation.requests,
                bytes=organisation.bytes,
                not_modified=organisation.not_modified,
                refused=organisation.refused,
            )
        )
        for seen in organisation.addresses:
            row = known.get(seen.address)
            if row is None:
                row = known[seen.address] = FeedAddress(election_id=election.id, proxy=proxy, address=seen.address)
                db.session.add(row)
            row.organisation_id = organisation.organisation_id
            row.kind = seen.kind
            row.requests = seen.requests
            row.refused = seen.refused
            row.last_seen = seen.last_seen
            row.updated_at = at
            addresses += 1
    db.session.flush()
    return Collected(proxy, election.code, len(stats.organisations), addresses)
