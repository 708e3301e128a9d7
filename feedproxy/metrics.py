"""Accounting across workers, and its renderings: Prometheus text (``/metrics``) and ``/stats.json``.

Workers count per address in their own memory and send the increments to the fetcher every second
(and right before they ask for a report); the fetcher adds them up here. Organisation labels come
from the snapshot the address was last seen under.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from allowlist.snapshot import Snapshot
from feedproxy.cache import Fetcher
from feedproxy.snapshots import SnapshotStatus


@dataclass
class AddressTotals:
    address: str
    kind: str
    organisation_id: int
    organisation: str
    requests: int = 0
    bytes: int = 0
    not_modified: int = 0
    refused: int = 0
    rate_limited: int = 0
    last_seen: float = 0.0


class Accounting:
    def __init__(self) -> None:
        self.addresses: dict[str, AddressTotals] = {}
        self.unknown_refused = 0
        self.unknown_rate_limited = 0
        self.responses: Counter[str] = Counter()
        self._owners: dict[str, tuple[str, int, str]] = {}

    def use_snapshot(self, snapshot: Snapshot) -> None:
        self._owners = {e.address: (e.kind, e.organisation_id, e.organisation) for e in snapshot.entries}

    def add(self, delta: dict[str, Any]) -> None:
        for address, requests, nbytes, not_modified, refused, rate_limited, last_seen in delta.get("clients", ()):
            totals = self.addresses.get(address)
            owner = self._owners.get(address)
            if totals is None:
                kind, organisation_id, organisation = owner or ("unknown", 0, "")
                totals = self.addresses[address] = AddressTotals(address, kind, organisation_id, organisation)
            elif owner is not None:
                totals.kind, totals.organisation_id, totals.organisation = owner
            totals.requests += requests
            totals.bytes += nbytes
            totals.not_modified += not_modified
            totals.refused += refused
            totals.rate_limited += rate_limited
            totals.last_seen = max(totals.last_seen, last_seen)
        self.unknown_refused += delta.get("unknown_refused", 0)
        self.unknown_rate_limited += delta.get("unknown_rate_limited", 0)
        self.responses.update(delta.get("responses", {}))

    def organisations(self) -> list[dict[str, Any]]:
        by_id: dict[int, dict[str, Any]] = {}
        for totals in sorted(self.addresses.values(), key=lambda t: (t.organisation_id, t.address)):
            row = by_id.setdefault(
                totals.organisation_id,
                {
                    "organisation_id": totals.organisation_id,
                    "organisation": totals.organisation,
                    "requests": 0,
                    "bytes": 0,
                    "not_modified": 0,
                    "refused": 0,
                    "rate_limited": 0,
                    "last_seen": 0.0,
                    "addresses": [],
                },
            )
            for name in ("requests", "bytes", "not_modified", "refused", "rate_limited"):
                row[name] += getattr(totals, name)
            row["last_seen"] = max(row["last_seen"], totals.last_seen)
            row["addresses"].append(
                {
                    "address": totals.address,
                    "kind": totals.kind,
                    "requests": totals.requests,
                    "bytes": totals.bytes,
                    "not_modified": totals.not_modified,
                    "refused": totals.refused,
                    "rate_limited": totals.rate_limited,
                    "last_seen": totals.last_seen,
                }
            )
        rows = list(by_id.values())
        for row in rows:
            row["not_modified_share"] = round(row["not_modified"] / row["requests"], 4) if row["requests"] else 0.0
        return rows


def stats_document(accounting: Accounting, snapshot: SnapshotStatus, now: float) -> dict[str, Any]:
    """``/stats.json``: per-organisation accounting for the portal's election-night board."""
    current = snapshot.snapshot
    return {
        "generated_at": now,
        "election": current.election if current else None,
        "snapshot_version": current.version if current else None,
        "organisations": accounting.organisations(),
        "unknown": {"refused": accounting.unknown_refused, "rate_limited": accounting.unknown_rate_limited},
        "responses": dict(sorted(accounting.responses.items())),
    }


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: object) -> str:
    return "{" + ",".join(f'{name}="{_label(value)}"' for name, value in labels.items()) + "}"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, **labels: object) -> None:
        number = repr(float(value)) if isinstance(value, float) else str(value)
        self.lines.append(f"{name}{_labels(**labels) if labels else ''} {number}")


def render_metrics(
    accounting: Accounting, fetcher: Fetcher, snapshot: SnapshotStatus, now: float, *, workers: int
) -> str:
    """The Prometheus text exposition (version 0.0.4)."""
    out = _Text()
    organisations = accounting.organisations()
    per_organisation = (
        ("feedproxy_requests_total", "requests", "Document requests let through, per organisation."),
        ("feedproxy_response_bytes_total", "bytes", "Body bytes sent, per organisation."),
        ("feedproxy_not_modified_total", "not_modified", "304 Not Modified answers, per organisation."),
        ("feedproxy_refused_total", "refused", "Requests refused with 403, per organisation (0: unknown address)."),
        ("feedproxy_rate_limited_total", "rate_limited", "Requests answered 429, per organisation (0: unknown)."),
    )
    for name, field_name, help_text in per_organisation:
        out.family(name, "counter", help_text)
        for row in organisations:
            out.sample(name, row[field_name], organisation_id=row["organisation_id"], organisation=row["organisation"])
        if field_name == "refused":
            out.sample(name, accounting.unknown_refused, organisation_id=0, organisation="unknown")
        if field_name == "rate_limited":
            out.sample(name, accounting.unknown_rate_limited, organisation_id=0, organisation="unknown")
    out.family("feedproxy_not_modified_share", "gauge", "Share of 304 answers among requests, per organisation.")
    for row in organisations:
        share = row["not_modified_share"]
        out.sample(
            "feedproxy_not_modified_share",
            share,
            organisation_id=row["organisation_id"],
            organisation=row["organisation"],
        )
    out.family("feedproxy_client_last_seen_timestamp_seconds", "gauge", "Unix time of the last request per address.")
    for row in organisations:
        for address in row["addresses"]:
            out.sample(
                "feedproxy_client_last_seen_timestamp_seconds",
                address["last_seen"],
                address=address["address"],
                kind=address["kind"],
                organisation_id=row["organisation_id"],
                organisation=row["organisation"],
            )
    out.family("feedproxy_responses_total", "counter", "Answers by HTTP status.")
    for status, count in sorted(accounting.responses.items()):
        out.sample("feedproxy_responses_total", count, status=status)

    out.family("feedproxy_upstream_fetches_total", "counter", "Upstream requests per document and outcome or reason.")
    health = fetcher.health(now)
    for key, state in sorted(fetcher.documents.items()):
        for outcome, count in sorted(state.outcomes.items()):
            out.sample("feedproxy_upstream_fetches_total", count, document=key, outcome=outcome)
    out.family(
        "feedproxy_upstream_first_fetch_failures_total", "counter", "First fetches of unknown documents that failed."
    )
    for reason, count in sorted(fetcher.first_fetch_failures.items()):
        out.sample("feedproxy_upstream_first_fetch_failures_total", count, reason=reason)
    out.family("feedproxy_new_documents_refused_total", "counter", "New paths refused: document caps reached.")
    out.sample("feedproxy_new_documents_refused_total", fetcher.refused_new)
    out.family("feedproxy_document_age_seconds", "gauge", "Seconds since the upstream last confirmed the document.")
    for key, info in health.items():
        out.sample("feedproxy_document_age_seconds", info["age_seconds"], document=key)
    out.family("feedproxy_document_stale", "gauge", "1 when the served version is not known to be current.")
    for key, info in health.items():
        out.sample("feedproxy_document_stale", int(info["stale"]), document=key)
    out.family("feedproxy_documents", "gauge", "Documents cached.")
    out.sample("feedproxy_documents", len(health))
    out.family("feedproxy_stale_documents", "gauge", "Documents served stale.")
    out.sample("feedproxy_stale_documents", sum(1 for info in health.values() if info["stale"]))

    current = snapshot.snapshot
    out.family("feedproxy_snapshot_version", "gauge", "Version of the allowlist snapshot in force.")
    out.sample(
        "feedproxy_snapshot_version", current.version if current else 0, election=current.election if current else ""
    )
    out.family("feedproxy_snapshot_loaded_timestamp_seconds", "gauge", "Unix time the snapshot in force was loaded.")
    out.sample("feedproxy_snapshot_loaded_timestamp_seconds", snapshot.loaded_at)
    out.family("feedproxy_snapshot_refused_total", "counter", "Snapshots not loaded, by reason.")
    for code, count in sorted(snapshot.refused.items()):
        out.sample("feedproxy_snapshot_refused_total", count, code=code)
    out.family("feedproxy_workers", "gauge", "Server workers connected to the fetcher.")
    out.sample("feedproxy_workers", workers)
    return "\n".join(out.lines) + "\n"
