"""The allowlist snapshot of an election, published for the firewall agents and the feed proxies.

Built from the application versions in force, it gets a new version whenever its content changes,
and is signed with the portal's Ed25519 key (``allowlist.snapshot`` defines the document).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from allowlist.phase import LiveWindow, Schedule
from allowlist.snapshot import Entry, Snapshot, sign_document, snapshot_document
from portal import keyfiles
from portal.db import Model
from portal.elections.models import Election
from portal.extensions import db
from portal.registration.models import Application, ApplicationVersion, VersionState

#: The first key of the advisory lock that serialises publishing, per election (the second key).
#: The two-key space of advisory locks is apart from the audit chain's one-key lock.
PUBLISH_LOCK_CLASS = 0x616C6C6F  # "allo" in ASCII


class AllowlistVersion(Model):
    """One published content of an election's allowlist; the number only ever grows."""

    __tablename__ = "allowlist_versions"
    __table_args__ = (UniqueConstraint("election_id", "version", name="election_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    version: Mapped[int]
    #: SHA-256 of the content (entries, windows, close) that this version published.
    content_sha256: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime]
    #: The entries this version published (JSON), so staff can see what a host's next apply changes.
    #: None for versions published before the column existed.
    entries_json: Mapped[str | None] = mapped_column(Text)

    def published_entries(self) -> list[Entry] | None:
        if self.entries_json is None:
            return None
        return [Entry(*item) for item in json.loads(self.entries_json)]


@dataclass(frozen=True)
class Published:
    version: int
    document: dict[str, object]  #: signed, ready to serve as JSON

    @property
    def etag(self) -> str:
        return f"{self.document['election']}-v{self.version}"


def entries_in_force(election: Election) -> list[Entry]:
    """Every address of an approved version in force, production first, in a stable order."""
    rows = db.session.execute(
        select(Application, ApplicationVersion)
        .join(ApplicationVersion, ApplicationVersion.application_id == Application.id)
        .where(Application.election_id == election.id, ApplicationVersion.state == VersionState.APPROVED)
    ).all()
    entries = {
        (address.kind.value, address.address): Entry(
            address=address.address,
            kind=address.kind.value,
            organisation=application.organisation.name,
            organisation_id=application.organisation_id,
        )
        for application, version in rows
        for address in version.addresses
    }
    return [entries[key] for key in sorted(entries, key=lambda k: (k[0] != "production", k[1]))]


def _content_digest(election: Election, entries: list[Entry]) -> str:
    content = {
        "election": election.code,
        "windows": [
            [r.number, r.processing_starts_at.isoformat(), r.live_ends_at.isoformat()] for r in election.rounds
        ],
        "closes_at": election.access_closes_at.isoformat() if election.access_closes_at else None,
        "entries": [[e.kind, e.address, e.organisation, e.organisation_id] for e in entries],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _entries_json(entries: list[Entry]) -> str:
    return json.dumps([[e.address, e.kind, e.organisation, e.organisation_id] for e in entries], ensure_ascii=False)


def version_of(election: Election, version: int) -> AllowlistVersion | None:
    return db.session.scalar(
        select(AllowlistVersion).where(AllowlistVersion.election_id == election.id, AllowlistVersion.version == version)
    )


def latest_version(election: Election) -> AllowlistVersion | None:
    return db.session.scalar(
        select(AllowlistVersion)
        .where(AllowlistVersion.election_id == election.id)
        .order_by(AllowlistVersion.version.desc())
        .limit(1)
    )


def schedule_of(election: Election, *, at: datetime) -> Schedule:
    """The windows and close the snapshot publishes (an election without rounds closes at ``at``)."""
    return Schedule(
        live_windows=tuple(LiveWindow(r.number, r.processing_starts_at, r.live_ends_at) for r in election.rounds),
        closes_at=election.access_closes_at or at,
    )


def lock_publishing(election: Election) -> None:
    """Serialise publishing per election until the transaction ends.

    A transaction-level advisory lock keyed by (:data:`PUBLISH_LOCK_CLASS`, election id): it
    takes no row lock, so it never waits on, nor blocks, a decision; publishing takes no other lock.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(PUBLISH_LOCK_CLASS, election.id)))
    elif dialect == "sqlite":
        # A write statement takes SQLite's database write lock even when it matches no row, so the
        # latest version read next stays the latest until commit (as the audit chain does).
        table = AllowlistVersion.__table__
        db.session.execute(update(table).where(table.c.id == -1).values(version=table.c.version))


def publish(election: Election, *, at: datetime, key: Ed25519PrivateKey) -> Published:
    """The current signed snapshot: the latest version if its content is unchanged, else a new one.

    Publishing is serialised per election and the entries are computed after the lock, from what
    is committed then: a version never carries older content than the one before it, and an
    unchanged content never makes a new version.
    """
    lock_publishing(election)
    entries = entries_in_force(election)
    digest = _content_digest(election, entries)
    latest = latest_version(election)
    if latest is None or latest.content_sha256 != digest:
        latest = AllowlistVersion(
            election_id=election.id,
            version=(latest.version + 1) if latest else 1,
            content_sha256=digest,
            generated_at=at,
            entries_json=_entries_json(entries),
        )
        db.session.add(latest)
        db.session.flush()
    schedule = schedule_of(election, at=at)
    snapshot = Snapshot(
        election=election.code,
        version=latest.version,
        generated_at=latest.generated_at,
        live_windows=tuple(schedule.live_windows),
        closes_at=schedule.closes_at,
        entries=tuple(entries),
    )
    return Published(latest.version, sign_document(snapshot_document(snapshot), key))


def signing_key() -> Ed25519PrivateKey:
    """The portal's Ed25519 key (PORTAL_ALLOWLIST_KEY, a PEM file). Development makes one under
    ``var/`` when the setting is empty; production refuses to start without it (config.py)."""
    cached = current_app.extensions.get("portal.allowlist_key")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    configured = current_app.config.get("PORTAL_ALLOWLIST_KEY") or ""
    key = keyfiles.load(Path(configured)) if configured else keyfiles.load_or_create(keyfiles.DEVELOPMENT_KEY)
    current_app.extensions["portal.allowlist_key"] = key
    return key


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
