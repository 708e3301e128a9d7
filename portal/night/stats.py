"""Reading a feed proxy's ``/stats.json``: cumulative counters per organisation and address.

The document comes from another process over the network: every field is checked, and a document that
does not have the expected shape is refused whole (``StatsRefused``), never half stored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from allowlist.addresses import AddressPolicy, AddressRefused, parse_host_address

#: The proxy's address policy is not known here; the board only needs a canonical spelling.
_ANY_ADDRESS = AddressPolicy(allow_documentation=True)
MAX_ORGANISATIONS = 10_000
MAX_ADDRESSES = 100
_ADDRESS_CHARACTERS = frozenset("0123456789abcdefABCDEF.:")


class StatsRefused(ValueError):
    """The document is not a feed proxy's statistics."""


@dataclass(frozen=True)
class AddressStats:
    address: str
    kind: str
    requests: int
    not_modified: int
    refused: int
    last_seen: datetime | None


@dataclass(frozen=True)
class OrganisationStats:
    organisation_id: int  #: 0 for addresses on no allowlist
    organisation: str
    requests: int
    bytes: int
    not_modified: int
    refused: int
    rate_limited: int
    addresses: tuple[AddressStats, ...]


@dataclass(frozen=True)
class ProxyStats:
    generated_at: datetime
    election: str | None
    snapshot_version: int | None
    organisations: tuple[OrganisationStats, ...]


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatsRefused(f"{where} is not a count")
    return value


def _instant(value: object, where: str) -> datetime | None:
    """A unix time; 0 means never."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise StatsRefused(f"{where} is not a unix time")
    return datetime.fromtimestamp(value, UTC) if value else None


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StatsRefused(f"{where} is not an object")
    return value


def _address(item: object, where: str) -> AddressStats:
    fields = _object(item, where)
    text = fields.get("address")
    try:
        address = str(parse_host_address(text, _ANY_ADDRESS)) if isinstance(text, str) else None
    except AddressRefused:
        address = None
    if address is None:
        # A proxy may see loopback or private clients (refused ones, health checks): keep them readable.
        if (
            not isinstance(text, str)
            or not 2 <= len(text) <= 45
            or not all(c in "0123456789abcdefABCDEF.:" for c in text)
        ):
            raise StatsRefused(f"{where}: address is not an IP address")
        address = text.lower()
    kind = fields.get("kind")
    if kind not in ("production", "test", "unknown"):
        raise StatsRefused(f"{where}: kind {kind!r}")
    return AddressStats(
        address=address,
        kind=kind,
        requests=_count(fields.get("requests"), f"{where}: requests"),
        not_modified=_count(fields.get("not_modified"), f"{where}: not_modified"),
        refused=_count(fields.get("refused"), f"{where}: refused"),
        last_seen=_instant(fields.get("last_seen"), f"{where}: last_seen"),
    )


def _organisation(item: object, index: int) -> OrganisationStats:
    where = f"organisation {index}"
    fields = _object(item, where)
    name = fields.get("organisation")
    if not isinstance(name, str) or len(name) > 500:
        raise StatsRefused(f"{where}: organisation is not a name")
    addresses = fields.get("addresses")
    if not isinstance(addresses, list) or len(addresses) > MAX_ADDRESSES:
        raise StatsRefused(f"{where}: addresses is not a list")
    return OrganisationStats(
        organisation_id=_count(fields.get("organisation_id"), f"{where}: organisation_id"),
        organisation=name,
        requests=_count(fields.get("requests"), f"{where}: requests"),
        bytes=_count(fields.get("bytes"), f"{where}: bytes"),
        not_modified=_count(fields.get("not_modified"), f"{where}: not_modified"),
        refused=_count(fields.get("refused"), f"{where}: refused"),
        rate_limited=_count(fields.get("rate_limited"), f"{where}: rate_limited"),
        addresses=tuple(_address(a, f"{where} address {i}") for i, a in enumerate(addresses)),
    )


def parse_stats(data: bytes) -> ProxyStats:
    """The statistics ``data`` holds, or StatsRefused."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise StatsRefused(f"not JSON: {error}") from error
    fields = _object(document, "the document")
    election = fields.get("election")
    if election is not None and (not isinstance(election, str) or len(election) > 64):
        raise StatsRefused("election is not an election code")
    version = fields.get("snapshot_version")
    if version is not None:
        _count(version, "snapshot_version")
    organisations = fields.get("organisations")
    if not isinstance(organisations, list) or len(organisations) > MAX_ORGANISATIONS:
        raise StatsRefused("organisations is not a list")
    generated_at = _instant(fields.get("generated_at"), "generated_at")
    if generated_at is None:
        raise StatsRefused("generated_at is missing")
    return ProxyStats(
        generated_at=generated_at,
        election=election,
        snapshot_version=version,
        organisations=tuple(_organisation(item, i) for i, item in enumerate(organisations)),
    )
