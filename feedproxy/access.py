"""Who may fetch documents now: the allowlist snapshot compiled for one dict lookup per request.

The fetcher sends each worker the verified snapshot as a table (see ``snapshots.table``). Here it
becomes ``clients``: canonical address -> ``Client`` (organisation, kind, ``allowed`` for the current
phase, and the address's counters), plus the instants where the phase changes. The phase of each
stretch between two instants is asked of ``allowlist.phase`` once, so the proxy and the firewall
follow the same rules; a request only compares the time with the next instant.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from typing import Any

from allowlist.phase import (
    LiveWindow,
    Phase,
    Schedule,
    admits_production_addresses,
    admits_test_addresses,
    boundaries,
    phase_at,
)


class Client:
    """One allowlisted address and what it did since the last flush to the fetcher."""

    __slots__ = (
        "address",
        "allowed",
        "bytes",
        "kind",
        "last_seen",
        "not_modified",
        "organisation",
        "organisation_id",
        "rate_limited",
        "refused",
        "requests",
    )

    def __init__(self, address: str, kind: str, organisation_id: int, organisation: str) -> None:
        self.address = address
        self.kind = kind
        self.organisation_id = organisation_id
        self.organisation = organisation
        self.allowed = False
        self.requests = 0
        self.bytes = 0
        self.not_modified = 0
        self.refused = 0
        self.rate_limited = 0
        self.last_seen = 0.0

    def take_counts(self) -> list[Any] | None:
        """``[address, requests, bytes, not_modified, refused, rate_limited, last_seen]`` since the last call."""
        if not (self.requests or self.refused or self.rate_limited):
            return None
        counts = [self.address, self.requests, self.bytes, self.not_modified, self.refused, self.rate_limited]
        counts.append(self.last_seen)
        self.requests = self.bytes = self.not_modified = self.refused = self.rate_limited = 0
        return counts


def admits(kind: str, phase: Phase) -> bool:
    return admits_production_addresses(phase) if kind == "production" else admits_test_addresses(phase)


def _instant(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class AccessTable:
    def __init__(self, table: dict[str, Any], *, now: float) -> None:
        self.election: str = table["election"]
        self.version: int = table["version"]
        self.generated_at: str = table["generated_at"]
        self.clients: dict[str, Client] = {
            address: Client(address, kind, organisation_id, organisation)
            for address, kind, organisation_id, organisation in table["entries"]
        }
        windows = [LiveWindow(r, _instant(start), _instant(end)) for r, start, end in table["live_windows"]]
        schedule = Schedule(live_windows=windows, closes_at=_instant(table["closes_at"]))
        #: phase i holds from boundaries[i - 1] (or always) until boundaries[i] (or forever)
        self.boundaries: list[float] = [instant.timestamp() for instant in boundaries(schedule)]
        first = _instant(self.boundaries[0]) - timedelta(microseconds=1)
        self.phases: list[Phase] = [phase_at(schedule, first)]
        self.phases += [phase_at(schedule, _instant(b)) for b in self.boundaries]
        self.phase = self.phases[0]
        self.phase_until = 0.0
        self._canonical: dict[str, str] = {}
        self.advance(now)

    def advance(self, now: float) -> None:
        """Set ``phase`` and every client's ``allowed`` for ``now``; valid until ``phase_until``."""
        index = bisect_right(self.boundaries, now)
        self.phase = self.phases[index]
        self.phase_until = self.boundaries[index] if index < len(self.boundaries) else float("inf")
        for client in self.clients.values():
            client.allowed = admits(client.kind, self.phase)

    def phase_at(self, when: float) -> Phase:
        return self.phases[bisect_right(self.boundaries, when)]

    def next_change(self, now: float) -> tuple[Phase, float] | None:
        """The next phase that differs from the current one and when it starts, if any."""
        index = bisect_right(self.boundaries, now)
        current = self.phases[index]
        for later in range(index, len(self.boundaries)):
            if self.phases[later + 1] != current:
                return self.phases[later + 1], self.boundaries[later]
        return None

    def lookup(self, host: str) -> Client | None:
        """The client for an address as the server spelled it (canonicalised once per spelling)."""
        client = self.clients.get(host)
        if client is not None:
            return client
        canonical = self._canonical.get(host)
        if canonical is None:
            canonical = canonical_address(host)
            if len(self._canonical) > 100_000:
                self._canonical.clear()
            self._canonical[host] = canonical
        return self.clients.get(canonical)


def canonical_address(text: str) -> str:
    """The canonical spelling of an address (IPv4-mapped IPv6 as IPv4); the text itself if none."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def forwarded_client(values: list[str], peer: str, trusted: frozenset[str]) -> str:
    """The rightmost address in X-Forwarded-For that is not a trusted proxy (``peer`` when it is empty).

    An entry that is not an address ends the walk and is returned as is: it matches no allowlist entry.
    """
    hops = [hop.strip() for value in values for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        client = canonical_address(hop)
        if client not in trusted:
            return client
    return client


def may_read_operations(peer: str, allowed: frozenset[str]) -> bool:
    """``/metrics``, ``/healthz``, ``/stats.json``: the TCP peers in ``--metrics-allow`` only (default loopback).

    Never judged by X-Forwarded-For, and a trusted reverse proxy's address admits nobody behind it.
    """
    return peer in allowed or canonical_address(peer) in allowed
