"""The chain is keyed (HMAC-SHA-256 with PORTAL_AUDIT_KEY): rewriting the log and recomputing the chain
without the key is found; `portal audit head` gives ops a head to keep elsewhere; revision hard_0001
re-keys an existing plain SHA-256 chain once and records that it did."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.audit import service
from portal.audit.models import GENESIS_HASH, AuditEvent
from portal.audit.service import ChainReport, verify_chain
from portal.cli import main
from portal.extensions import db
from tests.audit.helpers import T0, tamper
from tests.conftest import portal_test_config, uses_postgresql


def plain_sha256(values) -> str:  # type: ignore[no-untyped-def]
    """The chain's old algorithm: what an attacker without the key can still compute."""
    payload = {name: values[name] for name in service.HASHED_FIELDS}
    payload["occurred_at"] = payload["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    message = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(message).hexdigest()


def rewrite(change: str, digest) -> None:  # type: ignore[no-untyped-def]
    """Change event 2 as an attacker with write access would, then recompute every hash, link and the head."""
    tamper(change)
    rows = db.session.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.id)).mappings().all()
    previous = GENESIS_HASH
    for row in rows:
        values = {**row, "previous_hash": previous}
        new = digest(values)
        tamper(
            "UPDATE audit_events SET previous_hash = :previous, hash = :new WHERE id = :id",
            previous=previous,
            new=new,
            id=row["id"],
        )
        previous = new
    tamper("UPDATE audit_head SET last_hash = :last", last=previous)


def test_the_hash_is_an_hmac_with_the_configured_key(app, make_events):
    (event,) = make_events(1)
    values = {name: getattr(event, name) for name in service.HASHED_FIELDS}
    key = app.config["PORTAL_AUDIT_KEY"].encode()
    assert event.hash == service._hash(values, key) != plain_sha256(values)
    assert event.hash != service._hash(values, b"another key")
    assert hmac.compare_digest(event.hash, service._hash(values))


@pytest.mark.parametrize(
    "digest",
    [plain_sha256, lambda values: service._hash(values, b"a key the attacker guessed")],
    ids=["plain-sha256", "wrong-key"],
)
def test_a_chain_rewritten_without_the_key_is_found(app, make_events, digest):
    make_events(4)
    rewrite("UPDATE audit_events SET actor_label = 'nobody' WHERE id = 2", digest)
    assert verify_chain() == ChainReport(ok=False, events_checked=0, first_bad_id=1, problem="changed")


def test_with_the_key_the_same_rewrite_would_pass(app, make_events):
    """The check above fails for want of the key, not for a flaw in the rewrite."""
    make_events(4)
    rewrite("UPDATE audit_events SET actor_label = 'nobody' WHERE id = 2", service._hash)
    assert verify_chain().ok


def test_the_same_chain_under_another_key_is_broken(make_app, make_events):
    first = make_app()
    with first.app_context():
        make_events(2)
        assert verify_chain().ok
        first.config["PORTAL_AUDIT_KEY"] = "another-key-another-key-another-key"
        assert verify_chain().problem == "changed"


def test_portal_audit_head_prints_the_last_event_and_verify_checks_a_recorded_head(app, make_events):
    runner = app.test_cli_runner()
    assert runner.invoke(main, ["audit", "head"]).stdout.strip() == f"0:{GENESIS_HASH} -"
    events = make_events(3)
    printed = runner.invoke(main, ["audit", "head"]).stdout.strip()
    assert printed == f"3:{events[2].hash} {(T0 + timedelta(minutes=3)).isoformat()}"
    recorded = printed.split()[0]
    assert runner.invoke(main, ["audit", "verify", "--head", recorded]).exit_code == 0
    # Someone with the key (or a restored backup) rewrites event 3: the chain verifies, the recorded head does not.
    rewrite("UPDATE audit_events SET reason = 'rewritten' WHERE id = 3", service._hash)
    assert verify_chain().ok
    result = runner.invoke(main, ["audit", "verify", "--head", recorded])
    assert result.exit_code == 1 and "event 3 no longer carries the recorded hash" in result.stderr
    assert runner.invoke(main, ["audit", "verify", "--head", "3:abc"]).exit_code == 2


def _old_chain(connection: sa.Connection, count: int, tamper_with: int | None = None) -> None:
    """``count`` events chained with plain SHA-256, as the log was before revision hard_0001."""
    table = AuditEvent.__table__
    previous = GENESIS_HASH
    for number in range(1, count + 1):
        values = {
            "id": number,
            "occurred_at": T0 + timedelta(minutes=number),
            "actor_id": None,
            "actor_label": "system",
            "action": "thing.changed",
            "subject_type": "things",
            "subject_id": str(number),
            "before": {"value": number - 1},
            "after": {"value": number},
            "reason": None,
            "client_address": "192.0.2.1",
            "previous_hash": previous,
        }
        values["hash"] = plain_sha256(values)
        if number == tamper_with:
            values["actor_label"] = "changed afterwards"
        connection.execute(table.insert().values(**values))
        previous = values["hash"]
    connection.execute(
        sa.text("INSERT INTO audit_head (id, last_event_id, last_hash) VALUES (1, :id, :hash)"),
        {"id": count, "hash": previous},
    )


@pytest.fixture
def migration_url(tmp_path, database_url):  # type: ignore[no-untyped-def]
    """An empty database of its own (on PostgreSQL next to the suite's, so the trigger path runs too).

    Alembic's env.py configures logging from alembic.ini, which disables every logger that exists;
    they are enabled again afterwards, so later tests still see the portal's log records."""
    loggers = [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    enabled = [logger for logger in loggers if not logger.disabled]
    yield from _migration_database(tmp_path, database_url)
    for logger in enabled:
        logger.disabled = False


def _migration_database(tmp_path, database_url):  # type: ignore[no-untyped-def]
    if not uses_postgresql():
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = database_url.rsplit("/", 1)[1] + "_rekey"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize(("tamper_with", "old_chain"), [(None, "intact"), (2, "event 2 changed")])
def test_the_migration_rekeys_an_existing_chain_once_and_records_it(migration_url, smtp_server, tamper_with, old_chain):
    app = create_app(portal_test_config(migration_url, smtp_server[0]))
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.begin() as connection:
            _old_chain(connection, 5, tamper_with)
        assert verify_chain().problem == "changed"  # the plain chain does not pass the keyed check
        upgrade(revision="hard_0001")
        db.session.remove()
        assert verify_chain() == ChainReport(ok=True, events_checked=6)
        rekeyed = db.session.get(AuditEvent, 6)
        assert (rekeyed.action, rekeyed.actor_label) == ("audit.chain_rekeyed", "migration")
        assert rekeyed.before == {"algorithm": "sha256", "chain": old_chain}
        assert rekeyed.after == {"algorithm": "hmac-sha256", "events": 5}
        db.session.remove()
        downgrade(revision="0010")
        rows = [dict(r) for r in db.session.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.id)).mappings()]
        assert [r["hash"] for r in rows] == [plain_sha256(r) for r in rows] and len(rows) == 6
        db.session.remove()
        db.engine.dispose()


def test_the_migration_leaves_an_empty_log_alone(migration_url, smtp_server):
    app = create_app(portal_test_config(migration_url, smtp_server[0]))
    with app.app_context():
        upgrade(revision="hard_0001")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
        db.session.remove()
        db.engine.dispose()
