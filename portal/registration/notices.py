"""Scheduled notices to outlets: the deadline reminder for drafts, and when test addresses are cut.

Run from cron or a timer (``portal notices send``); each notice is sent once per application and
occasion, remembered as an audit event, so running the command again sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.elections.models import Election, Round
from portal.extensions import db
from portal.notifications.outbox import enqueue
from portal.registration.models import Application, VersionState

REMINDER_ACTION = "application.deadline_reminder_sent"
TEST_CUT_ACTION = "application.test_cut_notice_sent"


@dataclass(frozen=True)
class NoticeReport:
    reminders: int
    test_cut_notices: int


def send_due_notices(at: datetime, *, reminder_before: timedelta, test_cut_before: timedelta) -> NoticeReport:
    """Queue every notice that is due at ``at``; flushes, the caller commits."""
    return NoticeReport(
        reminders=_deadline_reminders(at, reminder_before),
        test_cut_notices=_test_cut_notices(at, test_cut_before),
    )


def _already_sent(action: str, application: Application, occasion: str) -> bool:
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == action,
            AuditEvent.subject_type == Application.__tablename__,
            AuditEvent.subject_id == str(application.id),
        )
    ).all()
    return any((event.after or {}).get("occasion") == occasion for event in events)


def _deadline_reminders(at: datetime, before: timedelta) -> int:
    """Outlets with a draft in an election whose deadline ends within ``before``."""
    elections = db.session.scalars(
        select(Election).where(Election.applications_close_at > at, Election.applications_close_at <= at + before)
    ).all()
    sent = 0
    for election in elections:
        occasion = election.applications_close_at.isoformat()
        applications = db.session.scalars(select(Application).where(Application.election_id == election.id)).all()
        for application in applications:
            if application.latest.state is not VersionState.DRAFT or _already_sent(
                REMINDER_ACTION, application, occasion
            ):
                continue
            author = application.created_by
            enqueue(author.email, "registration/mail/reminder.txt", author.language, at=at, application=application)
            record(REMINDER_ACTION, application, actor=None, at=at, after={"occasion": occasion}, actor_label="system")
            sent += 1
    return sent


def _test_cut_notices(at: datetime, before: timedelta) -> int:
    """Outlets with test addresses in force, before each round's result processing starts."""
    rounds = db.session.scalars(
        select(Round).where(Round.processing_starts_at > at, Round.processing_starts_at <= at + before)
    ).all()
    sent = 0
    for round_ in rounds:
        occasion = f"round-{round_.number}"
        applications = db.session.scalars(
            select(Application).where(Application.election_id == round_.election_id)
        ).all()
        for application in applications:
            version = application.in_force
            if version is None or not version.addresses_of("test"):
                continue
            if _already_sent(TEST_CUT_ACTION, application, occasion):
                continue
            author = application.created_by
            for recipient in sorted({version.contact_email, author.email} - {""}):
                enqueue(
                    recipient,
                    "registration/mail/test_cut.txt",
                    author.language,
                    at=at,
                    application=application,
                    version=version,
                    round=round_,
                )
            record(TEST_CUT_ACTION, application, actor=None, at=at, after={"occasion": occasion}, actor_label="system")
            sent += 1
    return sent
