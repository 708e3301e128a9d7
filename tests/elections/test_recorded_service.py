"""The election service keeps its own rules and audit rows: whoever calls it (a page, the drill) gets both."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.elections.errors import ElectionError
from portal.elections.messages import error_message
from portal.elections.models import ElectionKind, ElectionStatus
from portal.elections.service import ElectionPlan, add_election, change_election, default_rounds, plan_of
from portal.extensions import db
from portal.problems import describe

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def plan(**changes: object) -> ElectionPlan:
    base = ElectionPlan(
        code="kv2030",
        name_cs="Volby do zastupitelstev obcí 2030",
        name_en="Municipal elections 2030",
        kind=ElectionKind.MUNICIPAL,
        status=ElectionStatus.TENTATIVE,
        application_deadline=date(2030, 9, 6),
        rounds=default_rounds(ElectionKind.MUNICIPAL, date(2030, 9, 20)),
    )
    return replace(base, **changes)


def test_adding_an_election_records_what_it_holds(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    election = add_election(plan(), actor=admin, at=AT)
    [created] = events("election.created")
    assert (created.subject_type, created.subject_id) == ("elections", str(election.id))
    assert created.actor_id == admin.id and created.before is None
    assert created.after["kind"] == "municipal" and created.after["rounds"][0]["number"] == 1


def test_a_refused_new_election_records_nothing(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    add_election(plan(), actor=admin, at=AT)
    with pytest.raises(ElectionError) as refused:
        add_election(plan(), actor=admin, at=AT)
    assert (refused.value.code, refused.value.field, refused.value.data["code"]) == ("code_taken", "code", "kv2030")
    assert len(events("election.created")) == 1


def test_moving_the_deadline_without_a_reason_is_refused_and_changes_nothing(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    election = add_election(plan(), actor=admin, at=AT)
    closes_at = election.applications_close_at
    with pytest.raises(ElectionError) as refused:
        change_election(election, plan(application_deadline=date(2030, 9, 4)), actor=admin, at=AT, reason="  ")
    assert (refused.value.code, refused.value.field) == ("reason_required", "change_reason")
    assert election.applications_close_at == closes_at
    assert events("election.updated") == []


def test_the_calendar_checks_come_before_the_reason(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    election = add_election(plan(), actor=admin, at=AT)
    with pytest.raises(ElectionError) as refused:
        change_election(election, plan(application_deadline=date(2030, 9, 27)), actor=admin, at=AT)
    assert refused.value.code == "deadline_after_processing"


def test_a_moved_deadline_is_recorded_with_its_reason(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    election = add_election(plan(), actor=admin, at=AT)
    change_election(election, plan(application_deadline=date(2030, 9, 4)), actor=admin, at=AT, reason=" Žádost ")
    [updated] = events("election.updated")
    assert updated.reason == "Žádost" and updated.actor_id == admin.id
    assert updated.before["applications_close_at"] == "2030-09-06T22:00:00+00:00"
    assert updated.after["applications_close_at"] == "2030-09-04T22:00:00+00:00"


def test_other_changes_need_no_reason_and_no_change_records_nothing(app, make_staff):
    admin = make_staff(role=Role.ADMIN)
    election = add_election(plan(), actor=admin, at=AT)
    change_election(election, plan_of(election), actor=admin, at=AT)
    assert events("election.updated") == []
    change_election(election, plan(status=ElectionStatus.ANNOUNCED), actor=admin, at=AT)
    [updated] = events("election.updated")
    assert (updated.before["status"], updated.after["status"], updated.reason) == ("tentative", "announced", None)


def test_an_exact_end_of_applications_overrides_the_deadline_day(app, make_staff):
    closes_at = datetime(2030, 9, 10, 8, 31, tzinfo=UTC)
    election = add_election(plan(applications_close_at=closes_at), actor=None, at=AT, actor_label="drill set-up")
    assert election.applications_close_at == closes_at
    [created] = events("election.created")
    assert created.actor_label == "drill set-up"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ElectionError("no_rounds", field="rounds"), "An election needs at least one round."),
        (ElectionError("voting_order", field="rounds", number=2), "Round 2: voting ends before it starts."),
        (ElectionError("live_order", field="rounds", number=1), "Round 1: result processing ends before it starts."),
        (ElectionError("rounds_overlap", field="rounds", number=2), "Round 2 starts before the previous round ends."),
        (ElectionError("code_taken", field="code", code="kv2030"), "An election with the code kv2030 exists."),
        (ElectionError("reason_required", field="change_reason"), "Say why the deadline moves"),
        (ElectionError("nonexistent_local_time", time="2030-03-31 02:30"), "2030-03-31 02:30 does not exist"),
        (ElectionError("something_new"), "This change is not possible."),
    ],
)
def test_every_refusal_is_put_into_words(app, error, words):
    with app.test_request_context(), force_locale("en"):
        assert words in error_message(error)
        assert describe(error) == error_message(error)
