"""Firewall hosts: what each agent last reported, and what its next apply would change.

Agents (``firewall agent``) post a report after every apply, refusal or error, and a heartbeat while
nothing changes. The portal keeps one row per (election, host): the latest report. A change of the
version in force on a host is also an audit event, so the log shows when each host enforced what.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from allowlist.snapshot import Entry
from portal.access import allowlist
from portal.accounts.models import User
from portal.audit.service import record
from portal.db import Model, enum_type
from portal.elections.models import Election
from portal.extensions import db

#: A host name as agents send it: DNS labels, no spaces or markup (it is shown to staff and logged).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
SET_NAME = re.compile(r"[a-z0-9_]{1,32}")
MAX_DETAIL = 500
#: A host that has not reported for this long is shown as silent (agents report at least every minute).
SILENT_AFTER = timedelta(minutes=3)


class ReportStatus(enum.StrEnum):
    APPLIED = "applied"  #: a version was applied just now
    UNCHANGED = "unchanged"  #: heartbeat: nothing to do
    REFUSED = "refused"  #: a snapshot or apply was refused (bad signature, older version, a brake)
    FAILED = "failed"  #: nft or the state directory failed
    UNREACHABLE = "unreachable"  #: the agent could not reach the portal for a while (sent once it can again)


class FirewallHost(Model):
    """The latest report of one host's firewall agent for one election."""

    __tablename__ = "firewall_hosts"
    __table_args__ = (UniqueConstraint("election_id", "host", name="election_host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    host: Mapped[str] = mapped_column(String(253))
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus, 16))
    #: The allowlist version in force on the host; None before its first apply.
    version: Mapped[int | None]
    phase: Mapped[str | None] = mapped_column(String(16))
    applied_at: Mapped[datetime | None]
    entries: Mapped[int | None]
    #: {set name: element count} right after the apply, as JSON.
    counts_json: Mapped[str] = mapped_column(Text, default="{}")
    detail: Mapped[str] = mapped_column(String(MAX_DETAIL), default="")
    first_seen_at: Mapped[datetime]
    last_report_at: Mapped[datetime]
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def counts(self) -> dict[str, int]:
        return json.loads(self.counts_json or "{}")  # type: ignore[no-any-return]

    def silent_at(self, at: datetime) -> bool:
        return at - self.last_report_at > SILENT_AFTER


@dataclass(frozen=True)
class Report:
    """A validated agent report."""

    host: str
    status: ReportStatus
    version: int | None
    phase: str | None
    applied_at: datetime | None
    entries: int | None
    counts: dict[str, int]
    detail: str


def store_report(election: Election, report: Report, *, user: User | None, at: datetime) -> FirewallHost:
    """Keep ``report`` as the host's latest; a change of the version in force is audited."""
    host = db.session.scalar(
        select(FirewallHost).where(FirewallHost.election_id == election.id, FirewallHost.host == report.host)
    )
    if host is None:
        host = FirewallHost(election_id=election.id, host=report.host, first_seen_at=at, version=None)
        db.session.add(host)
    before = host.version
    host.status = report.status
    if report.version is not None:
        host.version = report.version
        host.phase = report.phase
        host.applied_at = report.applied_at
        host.entries = report.entries
        host.counts_json = json.dumps(report.counts, sort_keys=True)
    host.detail = report.detail
    host.last_report_at = at
    host.reported_by_id = user.id if user else None
    db.session.flush()
    if report.version is not None and report.version != before:
        record(
            "firewall.applied",
            ("firewall_host", host.id),
            actor=user,
            at=at,
            before={"version": before},
            after={"host": host.host, "election": election.code, "version": host.version, "phase": host.phase},
        )
    return host


def hosts_of(election: Election) -> Sequence[FirewallHost]:
    return db.session.scalars(
        select(FirewallHost).where(FirewallHost.election_id == election.id).order_by(FirewallHost.host)
    ).all()


# --- what the next apply would change ---------------------------------------------------------------


@dataclass(frozen=True)
class EntryDiff:
    added: tuple[Entry, ...]
    removed: tuple[Entry, ...]

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


def diff_entries(in_force: Sequence[Entry], upcoming: Sequence[Entry]) -> EntryDiff:
    """Entries the next apply adds and removes; a kind change is one removal and one addition."""

    def key(entry: Entry) -> tuple[str, str]:
        return (entry.address, entry.kind)

    def in_address_order(entries: dict[tuple[str, str], Entry], keys: set[tuple[str, str]]) -> tuple[Entry, ...]:
        def order(k: tuple[str, str]) -> tuple[int, int, str]:
            address = ipaddress.ip_address(k[0])
            return (address.version, int(address), k[1])

        return tuple(entries[k] for k in sorted(keys, key=order))

    old = {key(e): e for e in in_force}
    new = {key(e): e for e in upcoming}
    return EntryDiff(
        added=in_address_order(new, new.keys() - old.keys()),
        removed=in_address_order(old, old.keys() - new.keys()),
    )


def next_apply_diffs(
    election: Election, hosts: Sequence[FirewallHost], upcoming: Sequence[Entry]
) -> dict[int, EntryDiff | None]:
    """Per version that some host runs: what applying ``upcoming`` changes (None: its entries were not kept)."""
    diffs: dict[int, EntryDiff | None] = {}
    for version in {h.version for h in hosts if h.version is not None}:
        row = allowlist.version_of(election, version)
        entries = row.published_entries() if row else None
        diffs[version] = diff_entries(entries, upcoming) if entries is not None else None
    return diffs
