"""What the election-night board shows: per outlet and address, last seen and rate; the request rate over time.

Outlets come from the allowlist in force (approved applications), so an outlet that never reached a proxy
is on the board too: "never seen" is exactly what staff must notice before the night.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.access.allowlist import entries_in_force
from portal.elections.models import Election
from portal.extensions import db
from portal.night.models import FeedAddress, FeedSample

#: A production address unseen for this long is silent (clients poll every few seconds to a minute).
SILENT_AFTER = timedelta(minutes=5)
#: The recent rate per outlet is taken over this span.
RECENT = timedelta(minutes=5)


@dataclass(frozen=True)
class AddressRow:
    address: str
    kind: str
    last_seen: datetime | None
    requests: int
    silent: bool  #: production, seen before, and not for SILENT_AFTER
    listed: bool = True  #: on the allowlist in force (False: a proxy served it under an older snapshot)


@dataclass
class OutletRow:
    organisation_id: int
    organisation: str
    addresses: list[AddressRow] = field(default_factory=list)
    requests_per_minute: float = 0.0
    #: requests per second per minute over the chart's span, oldest first (the row's sparkline)
    activity: list[float] = field(default_factory=list)
    listed: bool = True  #: on the allowlist in force

    @property
    def last_seen(self) -> datetime | None:
        return max((a.last_seen for a in self.addresses if a.last_seen), default=None)

    @property
    def state(self) -> str:
        """``never``: no address seen; ``silent``: every production address went quiet; ``unlisted``: served by
        a proxy but not on the allowlist in force; else ``ok``."""
        if not self.listed:
            return "unlisted"
        production = [a for a in self.addresses if a.kind == "production"]
        if all(a.last_seen is None for a in self.addresses):
            return "never"
        if production and all(a.silent or a.last_seen is None for a in production):
            return "silent"
        return "ok"


@dataclass(frozen=True)
class Sample:
    proxy: str
    organisation_id: int
    sampled_at: datetime
    requests: int


def increments(samples: Iterable[Sample]) -> list[tuple[datetime, int, int]]:
    """(instant, organisation, requests since the previous sample of the same proxy and organisation).

    A counter lower than before means the proxy restarted: its new value is what it served since.
    """
    previous: dict[tuple[str, int], int] = {}
    result = []
    for sample in sorted(samples, key=lambda s: s.sampled_at):
        key = (sample.proxy, sample.organisation_id)
        before = previous.get(key)
        previous[key] = sample.requests
        if before is None:
            continue  # the first sample in view has no interval behind it
        result.append(
            (
                sample.sampled_at,
                sample.organisation_id,
                sample.requests - before if sample.requests >= before else sample.requests,
            )
        )
    return result


def rate_series(
    deltas: Sequence[tuple[datetime, int, int]], *, start: datetime, end: datetime, bucket: timedelta
) -> list[tuple[datetime, float]]:
    """Requests per second of all outlets together, per ``bucket`` from ``start`` to ``end``."""
    count = max(1, int((end - start) / bucket))
    totals = [0] * count
    for instant, _organisation, requests in deltas:
        if start < instant <= end:
            totals[min(count - 1, int((instant - start) / bucket))] += requests
    seconds = bucket.total_seconds()
    return [(start + bucket * i, total / seconds) for i, total in enumerate(totals)]


def samples_since(election: Election, since: datetime) -> list[Sample]:
    rows = db.session.execute(
        select(FeedSample.proxy, FeedSample.organisation_id, FeedSample.sampled_at, FeedSample.requests).where(
            FeedSample.election_id == election.id, FeedSample.sampled_at >= since
        )
    )
    return [Sample(*row) for row in rows]


def outlet_rows(
    election: Election,
    *,
    at: datetime,
    deltas: Sequence[tuple[datetime, int, int]],
    span: timedelta = timedelta(minutes=30),
    bucket: timedelta = timedelta(minutes=1),
) -> list[OutletRow]:
    """Every outlet on the allowlist in force with its addresses, silent ones flagged; then the outlets a proxy
    served that are not on it (a proxy with an older snapshot, or the demo's own computer)."""
    seen = {
        address: (organisation_id, kind, last_seen, requests)
        for address, organisation_id, kind, last_seen, requests in db.session.execute(
            select(
                FeedAddress.address,
                func.max(FeedAddress.organisation_id),
                func.max(FeedAddress.kind),
                func.max(FeedAddress.last_seen),
                func.sum(FeedAddress.requests),
            )
            .where(FeedAddress.election_id == election.id)
            .group_by(FeedAddress.address)
        )
    }
    outlets: dict[int, OutletRow] = {}
    listed_addresses = set()
    for entry in entries_in_force(election):
        outlet = outlets.setdefault(entry.organisation_id, OutletRow(entry.organisation_id, entry.organisation))
        _organisation, _kind, last_seen, requests = seen.get(entry.address, (None, None, None, 0))
        silent = entry.kind == "production" and last_seen is not None and at - last_seen > SILENT_AFTER
        outlet.addresses.append(AddressRow(entry.address, entry.kind, last_seen, int(requests or 0), silent))
        listed_addresses.add(entry.address)
    unlisted = {a: row for a, row in seen.items() if a not in listed_addresses and row[0]}
    names = _organisation_names({row[0] for row in unlisted.values()} - set(outlets))
    for address, (organisation_id, kind, last_seen, requests) in sorted(unlisted.items()):
        outlet = outlets.get(organisation_id)
        if outlet is None:
            name = names.get(organisation_id, f"#{organisation_id}")
            outlet = outlets[organisation_id] = OutletRow(organisation_id, name, listed=False)
        outlet.addresses.append(AddressRow(address, kind or "production", last_seen, int(requests or 0), False, False))
    recent: defaultdict[int, int] = defaultdict(int)
    for instant, organisation_id, requests in deltas:
        if at - RECENT < instant <= at:
            recent[organisation_id] += requests
    for organisation_id, outlet in outlets.items():
        outlet.requests_per_minute = recent[organisation_id] / (RECENT.total_seconds() / 60)
        own = [d for d in deltas if d[1] == organisation_id]
        outlet.activity = [value for _, value in rate_series(own, start=at - span, end=at, bucket=bucket)]
    order = {"silent": 0, "never": 1, "ok": 2, "unlisted": 3}
    return sorted(outlets.values(), key=lambda o: (order[o.state], o.organisation.casefold()))


def _organisation_names(ids: set[int]) -> dict[int, str]:
    from portal.accounts.models import Organisation

    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
