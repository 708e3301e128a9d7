"""Recording in the caller's transaction, the hash chain, and every kind of tampering found."""

from __future__ import annotations

import enum
import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.audit import service
from portal.audit.errors import AuditLogIsAppendOnly
from portal.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from portal.audit.service import ChainReport, record, snapshot, verify_chain
from portal.extensions import db
from tests.audit.helpers import T0, tamper
from tests.conftest import uses_postgresql


def count_events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def intact(events: int) -> ChainReport:
    return ChainReport(ok=True, events_checked=events, first_bad_id=None, problem=None)


def broken(problem: str, first_bad_id: int, checked: int) -> ChainReport:
    return ChainReport(ok=False, events_checked=checked, first_bad_id=first_bad_id, problem=problem)


# --- recording --------------------------------------------------------------------------------


def test_an_event_is_part_of_the_callers_transaction(app, make_organisation):
    organisation = make_organisation(name="Před")
    db.session.commit()
    organisation.name = "Po"
    record("organisation.updated", organisation, actor=None, at=T0, before={"name": "Před"}, after={"name": "Po"})
    db.session.rollback()

    assert count_events() == 0
    assert db.session.get(AuditHead, 1) is None
    assert db.session.get(type(organisation), organisation.id).name == "Před"
    assert verify_chain() == intact(0)


def test_a_change_and_its_event_are_committed_together(app, make_organisation, make_staff):
    staff = make_staff()
    organisation = make_organisation(name="Před")
    organisation.name = "Po"
    event = record(
        "organisation.updated",
        organisation,
        actor=staff,
        at=T0,
        before={"name": "Před"},
        after={"name": "Po"},
        client_address="192.0.2.7",
        reason="oprava překlepu",
    )
    assert event.id is not None  # flushed
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(AuditEvent, event.id)
    assert (stored.subject_type, stored.subject_id) == ("organisations", str(organisation.id))
    assert (stored.actor_id, stored.actor_label) == (staff.id, staff.email)
    assert (stored.before, stored.after) == ({"name": "Před"}, {"name": "Po"})
    assert (stored.client_address, stored.reason, stored.occurred_at) == ("192.0.2.7", "oprava překlepu", T0)


def test_events_without_an_actor_are_the_systems_unless_labelled(app):
    first = record("thing.done", ("things", 1), actor=None, at=T0)
    second = record("thing.done", ("things", "a-b"), actor=None, at=T0, actor_label="cli")
    assert (first.actor_id, first.actor_label, first.subject_id) == (None, "system", "1")
    assert (second.actor_label, second.subject_id) == ("cli", "a-b")


def test_a_naive_time_is_refused(app):
    with pytest.raises(ValueError, match="naive"):
        record("thing.done", ("things", 1), actor=None, at=datetime(2026, 1, 1, 12))


def test_times_are_stored_in_utc(app):
    prague_winter = timezone(timedelta(hours=1))
    event = record("thing.done", ("things", 1), actor=None, at=datetime(2026, 1, 1, 13, tzinfo=prague_winter))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).occurred_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert verify_chain().ok


class Colour(enum.StrEnum):
    RED = "red"


class Thing:
    colour = Colour.RED
    when = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    day = date(2026, 3, 29)
    tags = ("a", "b")
    nothing = None


def test_snapshot_makes_json_of_enums_instants_days_and_tuples():
    assert snapshot(Thing(), ["colour", "when", "day", "tags", "nothing"]) == {
        "colour": "red",
        "when": "2026-03-29T01:30:00+00:00",
        "day": "2026-03-29",
        "tags": ["a", "b"],
        "nothing": None,
    }


def test_record_stores_before_and_after_as_json(app):
    event = record("thing.done", ("things", 1), actor=None, at=T0, after={"when": T0, "colour": Colour.RED})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).after == {"when": "2026-11-23T09:00:00+00:00", "colour": "red"}
    assert verify_chain().ok


def test_values_that_are_not_json_are_refused(app):
    with pytest.raises(TypeError, match="cannot record"):
        record("thing.done", ("things", 1), actor=None, at=T0, after={"what": object()})


# --- the chain --------------------------------------------------------------------------------


def test_each_event_is_chained_to_the_one_before(app, make_events):
    events = make_events(3)
    assert [e.id for e in events] == [1, 2, 3]
    assert events[0].previous_hash == GENESIS_HASH == "0" * 64
    assert events[1].previous_hash == events[0].hash and events[2].previous_hash == events[1].hash
    assert all(len(e.hash) == 64 and int(e.hash, 16) >= 0 for e in events)
    head = db.session.get(AuditHead, 1)
    assert (head.last_event_id, head.last_hash) == (3, events[2].hash)
    assert verify_chain() == intact(3)


def test_an_empty_log_is_intact(app):
    assert verify_chain() == intact(0)


def test_the_chain_verifies_in_batches(app, make_events):
    make_events(7)
    assert verify_chain(batch_size=2) == intact(7)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'thing.approved'"),
        ("actor_label", "'someone@else.example'"),
        ("subject_id", "'99'"),
        ("after", "'{\"value\": 99}'"),
        ("before", "NULL"),
        ("reason", "'nothing happened'"),
        ("client_address", "'203.0.113.9'"),
        ("occurred_at", "occurred_at + INTERVAL '1 hour'" if uses_postgresql() else "'2026-11-23 11:00:00.000000'"),
        ("previous_hash", f"'{'1' * 64}'"),
    ],
)
def test_a_changed_field_is_found(app, make_events, column, value):
    make_events(4)
    tamper(f"UPDATE audit_events SET {column} = {value} WHERE id = 2")  # noqa: S608 - fixed test values
    assert verify_chain() == broken("changed", first_bad_id=2, checked=1)


def test_a_deleted_event_in_the_middle_is_found(app, make_events):
    make_events(5)
    tamper("DELETE FROM audit_events WHERE id = 3")
    assert verify_chain() == broken("deleted", first_bad_id=3, checked=2)


def test_a_deleted_first_event_is_found(app, make_events):
    make_events(3)
    tamper("DELETE FROM audit_events WHERE id = 1")
    assert verify_chain() == broken("deleted", first_bad_id=1, checked=0)


def test_deleted_last_events_are_found_through_the_head(app, make_events):
    make_events(5)
    tamper("DELETE FROM audit_events WHERE id >= 4")
    assert verify_chain() == broken("truncated", first_bad_id=4, checked=3)


def test_a_deleted_head_is_found(app, make_events):
    make_events(2)
    tamper("DELETE FROM audit_head")
    assert verify_chain() == broken("truncated", first_bad_id=1, checked=2)


def test_an_emptied_log_is_found(app, make_events):
    make_events(2)
    tamper("DELETE FROM audit_events")
    assert verify_chain() == broken("truncated", first_bad_id=1, checked=0)


def test_a_rehashed_event_that_does_not_follow_its_predecessor_is_found(app, make_events):
    """Someone who knows the algorithm recomputes one event's hash: its link still breaks."""
    events = make_events(4)
    values = {name: getattr(events[2], name) for name in service.HASHED_FIELDS}
    values["previous_hash"] = events[0].hash  # as if event 2 had never been there
    forged = service._hash(values)
    tamper(
        "UPDATE audit_events SET previous_hash = :previous, hash = :forged WHERE id = 3",
        previous=events[0].hash,
        forged=forged,
    )
    assert verify_chain() == broken("reordered", first_bad_id=3, checked=2)


def test_appending_after_a_deletion_keeps_the_deletion_visible(app, make_events):
    make_events(3)
    tamper("DELETE FROM audit_events WHERE id = 3")
    make_events(1, start=4)
    assert verify_chain() == broken("deleted", first_bad_id=3, checked=2)


def test_swapped_events_are_found(app, make_events):
    make_events(3)
    tamper("UPDATE audit_events SET id = id + 100 WHERE id IN (1, 2)")
    tamper("UPDATE audit_events SET id = 1 WHERE id = 102")
    tamper("UPDATE audit_events SET id = 2 WHERE id = 101")
    assert verify_chain() == broken("changed", first_bad_id=1, checked=0)


# --- append-only --------------------------------------------------------------------------------


def test_the_orm_refuses_to_change_an_event(app, make_events):
    event = make_events(1)[0]
    event.action = "thing.forged"
    with pytest.raises(AuditLogIsAppendOnly) as refused:
        db.session.flush()
    assert (refused.value.operation, refused.value.event_ids) == ("update", (1,))
    db.session.rollback()
    assert verify_chain() == intact(1)


def test_the_orm_refuses_to_delete_an_event(app, make_events):
    event = make_events(1)[0]
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert verify_chain() == intact(1)


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEvent).values(action="thing.forged"),
        sa.delete(AuditEvent).where(AuditEvent.id == 1),
        sa.delete(AuditEvent.__table__),
    ],
    ids=["orm-update", "orm-delete", "table-delete"],
)
def test_bulk_statements_through_the_session_are_refused(app, make_events, statement):
    make_events(2)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert verify_chain() == intact(2)


def test_the_head_itself_may_move(app, make_events):
    make_events(1)
    make_events(1, start=2)
    assert db.session.get(AuditHead, 1).last_event_id == 2


@pytest.mark.postgres_only
@pytest.mark.parametrize("sql", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_postgresql_refuses_raw_updates_and_deletes(app, make_events, sql):
    if not uses_postgresql():
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    make_events(2)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(sql))
    db.session.rollback()
    assert verify_chain() == intact(2)


# --- concurrency ----------------------------------------------------------------------------------


def append_from_threads(app, threads_count: int, per_thread: int) -> list[BaseException]:  # type: ignore[no-untyped-def]
    """Each thread appends ``per_thread`` events, one transaction each, all starting at once."""
    start = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for number in range(per_thread):
                    record("thing.done", ("things", f"{worker}-{number}"), actor=None, at=T0)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return failures


@pytest.mark.postgres_only
def test_concurrent_appends_never_fork_the_chain(app):
    if not uses_postgresql():
        pytest.skip("needs PostgreSQL: the advisory lock")
    assert append_from_threads(app, threads_count=8, per_thread=10) == []
    assert verify_chain() == intact(80)
    assert len(set(db.session.scalars(sa.select(AuditEvent.subject_id)))) == 80


def test_concurrent_appends_are_serialised_on_any_database(app):
    """On SQLite the service takes the database's write lock before reading the head."""
    assert append_from_threads(app, threads_count=4, per_thread=5) == []
    assert verify_chain() == intact(20)
