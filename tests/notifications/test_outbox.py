"""The transactional outbox over the suite's real SMTP server: written with the state change, delivered
with retries and backoff, never lost, and each mail delivered once (counted by its Message-ID)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.config import ConfigurationError, load_settings
from portal.db import utcnow
from portal.extensions import db
from portal.notifications import outbox
from portal.notifications.models import OutboxStatus
from portal.notifications.outbox import Attachment, backoff_delay, claim_due, deliver_due
from tests.conftest import uses_postgresql
from tests.factories import post_form
from tests.mailbox import body_of, free_port
from tests.notifications.conftest import AT, CONFIRM, delivered_exactly_once, outbox_rows, received

LEASE = timedelta(seconds=300)  # PORTAL_OUTBOX_LEASE_SECONDS by default


@pytest.fixture
def smtp_down(app):
    """Point the app at a port where nothing listens; ``smtp_down.restore()`` brings the real server back."""
    real_port = app.config["PORTAL_SMTP_PORT"]
    app.config["PORTAL_SMTP_PORT"] = free_port()

    class Switch:
        @staticmethod
        def restore() -> None:
            app.config["PORTAL_SMTP_PORT"] = real_port

    return Switch


# --- 1. written in the caller's transaction ----------------------------------------------------------


def test_a_mail_enqueued_in_a_rolled_back_transaction_is_never_sent(app, mailbox, queue_mail, make_applicant):
    make_applicant()
    queue_mail(2)
    db.session.rollback()

    report = deliver_due(AT + timedelta(days=30))

    assert (report.sent, report.failed, report.remaining) == (0, 0, 0)
    assert outbox_rows() == [] and mailbox.messages == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_enqueue_flushes_without_committing(app, queue_mail):
    [row] = queue_mail()
    assert row.id is not None and row.status is OutboxStatus.PENDING and row.next_attempt_at == AT
    assert db.session().in_transaction()
    db.session.rollback()
    assert outbox_rows() == []


def test_the_mail_is_stored_as_rendered_and_not_rendered_again(app, mailbox, queue_mail, monkeypatch):
    [row] = queue_mail()
    db.session.commit()
    assert "Redakce" in row.body and row.subject and row.message_id.startswith("<")

    def templates_gone(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the sender must not render again")

    monkeypatch.setattr(outbox, "render_mail", templates_gone)
    assert deliver_due(AT).sent == 1
    [mail] = mailbox.messages
    assert mail["Subject"] == row.subject and body_of(mail).replace("\r\n", "\n").strip() == row.body.strip()
    assert mail["Message-ID"] == row.message_id and mail["Date"]


# --- 2. SMTP down: failures recorded, nothing lost, then delivered once ------------------------------


def test_smtp_down_keeps_mails_pending_then_delivers_each_exactly_once(app, mailbox, queue_mail, smtp_down):
    rows = queue_mail(3)
    db.session.commit()

    down = deliver_due(AT)

    assert (down.sent, down.failed, down.remaining) == (0, 3, 3)
    for row in outbox_rows():
        assert row.status is OutboxStatus.PENDING and row.attempts == 1
        assert AT < row.next_attempt_at <= AT + timedelta(seconds=31)
        assert row.last_error.startswith("ConnectionRefusedError: ") and "Traceback" not in row.last_error
        assert row.claimed_by is None and row.claimed_until is None and row.sent_at is None
    assert mailbox.messages == []

    not_yet = deliver_due(AT + timedelta(seconds=20))  # inside the backoff: nobody tries
    assert (not_yet.sent, not_yet.failed, not_yet.remaining) == (0, 0, 3)

    smtp_down.restore()
    up = deliver_due(AT + timedelta(minutes=1))

    assert (up.sent, up.failed, up.remaining) == (3, 0, 0)
    assert delivered_exactly_once(mailbox, rows)
    for row in outbox_rows():
        assert row.status is OutboxStatus.SENT and row.attempts == 2 and row.sent_at >= AT + timedelta(minutes=1)
    assert deliver_due(AT + timedelta(days=1)).sent == 0
    assert delivered_exactly_once(mailbox, rows)


# --- 3. a sender killed midway --------------------------------------------------------------------------


def test_mails_claimed_by_a_killed_sender_are_reclaimed_after_the_lease_and_sent_once(app, mailbox, queue_mail):
    rows = queue_mail(3)
    db.session.commit()
    claimed = claim_due(AT, worker="killed-sender")  # ... and the sender dies before sending anything
    assert claimed == [row.id for row in rows]
    assert {(r.status, r.claimed_by, r.claimed_until) for r in outbox_rows()} == {
        (OutboxStatus.SENDING, "killed-sender", AT + LEASE)
    }

    during_lease = deliver_due(AT + LEASE - timedelta(seconds=1))
    assert (during_lease.sent, during_lease.remaining) == (0, 3)
    assert mailbox.messages == []

    after_lease = deliver_due(AT + LEASE + timedelta(seconds=1))

    assert (after_lease.sent, after_lease.failed, after_lease.remaining) == (3, 0, 0)
    assert delivered_exactly_once(mailbox, rows)
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}


def test_a_claim_takes_due_mails_oldest_first_up_to_the_limit(app, queue_mail):
    later = queue_mail(1, at=AT + timedelta(minutes=1))
    first = queue_mail(3)
    db.session.commit()

    assert claim_due(AT, worker="a", limit=2) == [first[0].id, first[1].id]
    assert claim_due(AT, worker="b", limit=10) == [first[2].id]
    assert claim_due(AT, worker="c") == []
    assert claim_due(AT + timedelta(minutes=1), worker="c") == [later[0].id]  # the others are still held


def test_a_sender_killed_after_smtp_accepted_resends_with_the_same_message_id(app, mailbox, queue_mail, monkeypatch):
    """The residual window SMTP cannot close: the copy is a duplicate receivers can recognise."""
    [row] = queue_mail()
    db.session.commit()

    def killed(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("killed between the SMTP reply and marking the row sent")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_record_sent", killed)
        with pytest.raises(SystemExit):
            deliver_due(AT)
    assert outbox_rows()[0].status is OutboxStatus.SENDING

    assert deliver_due(AT + LEASE + timedelta(seconds=1)).sent == 1

    assert received(mailbox) == Counter({row.message_id: 2})  # two copies, one Message-ID
    assert outbox_rows()[0].status is OutboxStatus.SENT


def test_a_sender_that_lost_its_claim_does_not_send(app, mailbox, queue_mail):
    [row] = queue_mail()
    db.session.commit()
    claim_due(AT, worker="slow-sender")
    claim_due(AT + LEASE, worker="other-sender")  # the lease expired: another sender took it over

    report = outbox._deliver_one(
        outbox._own_session(), row.id, worker="slow-sender", now=AT + LEASE, lease=LEASE, max_attempts=12
    )

    assert report == "skipped" and mailbox.messages == []
    assert outbox_rows()[0].claimed_by == "other-sender"


def test_a_stopping_sender_finishes_the_current_mail_and_releases_the_rest(app, mailbox, queue_mail, monkeypatch):
    rows = queue_mail(3)
    db.session.commit()
    stop = threading.Event()
    real_deliver = outbox.deliver

    def deliver_then_stop(message: object) -> None:
        real_deliver(message)
        stop.set()  # SIGTERM arrives while the first mail is being sent

    monkeypatch.setattr(outbox, "deliver", deliver_then_stop)
    report = deliver_due(AT, stop=stop)

    assert (report.sent, report.failed, report.remaining) == (1, 0, 2)
    assert [(r.status, r.claimed_by, r.next_attempt_at) for r in outbox_rows()[1:]] == [
        (OutboxStatus.PENDING, None, AT),
        (OutboxStatus.PENDING, None, AT),
    ]
    monkeypatch.setattr(outbox, "deliver", real_deliver)
    assert deliver_due(AT).sent == 2
    assert delivered_exactly_once(mailbox, rows)


# --- 4. parallel senders on PostgreSQL ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not uses_postgresql(), reason="parallel senders need PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED)"
)
def test_two_parallel_senders_deliver_each_of_50_mails_exactly_once(app, mailbox, queue_mail, monkeypatch):
    rows = queue_mail(50)
    db.session.commit()
    sent_by: Counter[str] = Counter()
    real_deliver = outbox.deliver

    def deliver_and_count(message: object) -> None:
        real_deliver(message)
        sent_by[threading.current_thread().name] += 1

    monkeypatch.setattr(outbox, "deliver", deliver_and_count)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait()
                while deliver_due(AT, limit=5).sent:
                    pass
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert delivered_exactly_once(mailbox, rows)
    assert sum(sent_by.values()) == 50 and len(sent_by) == 2, sent_by
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}


# --- 5. backoff and the dead letter ---------------------------------------------------------------------


def test_backoff_doubles_from_30_seconds_to_an_hour_with_a_small_deterministic_jitter():
    nominal = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600]
    for attempts, seconds in enumerate(nominal, start=1):
        delay = backoff_delay(attempts, "<a@volby-media.czso.cz>").total_seconds()
        assert seconds * 0.9 <= delay <= seconds, (attempts, delay)
        assert backoff_delay(attempts, "<a@volby-media.czso.cz>") == backoff_delay(attempts, "<a@volby-media.czso.cz>")
    assert backoff_delay(1000, "<a@volby-media.czso.cz>") <= timedelta(hours=1)
    one, other = ([backoff_delay(n, mid) for n in range(1, 13)] for mid in ("<a@x>", "<b@x>"))
    assert one != other  # mails that failed together do not retry together
    with pytest.raises(ValueError, match="attempts >= 1"):
        backoff_delay(0, "<a@x>")


def test_the_next_attempt_follows_the_backoff_schedule(app, queue_mail, smtp_down):
    [row] = queue_mail()
    db.session.commit()
    at = AT
    for attempts in (1, 2, 3):
        deliver_due(at)
        [stored] = outbox_rows()
        expected = at + backoff_delay(attempts, row.message_id)
        assert stored.attempts == attempts
        assert expected <= stored.next_attempt_at < expected + timedelta(seconds=5)
        at = stored.next_attempt_at


def test_a_mail_is_dead_after_the_maximum_of_attempts_and_never_sent(make_app, mailbox, queue_mail, caplog):
    app = make_app(PORTAL_OUTBOX_MAX_ATTEMPTS=3)
    real_port = app.config["PORTAL_SMTP_PORT"]
    app.config["PORTAL_SMTP_PORT"] = free_port()
    with app.app_context():
        [row] = queue_mail()
        db.session.commit()
        at = AT
        reports = []
        with caplog.at_level(logging.ERROR, logger="portal.notifications.outbox"):
            for _ in range(3):
                reports.append(deliver_due(at))
                at += timedelta(hours=2)

        assert [(r.failed, r.dead, r.remaining) for r in reports] == [(1, 0, 1), (1, 0, 1), (1, 1, 0)]
        [stored] = outbox_rows()
        assert stored.status is OutboxStatus.DEAD and stored.attempts == 3 and stored.claimed_by is None
        assert stored.last_error.startswith("ConnectionRefusedError")
        assert any(row.message_id in record.getMessage() for record in caplog.records)

        app.config["PORTAL_SMTP_PORT"] = real_port
        assert deliver_due(at + timedelta(days=7)).sent == 0
        assert mailbox.messages == []
        assert outbox.status_counts()[OutboxStatus.DEAD] == 1


def test_the_default_maximum_is_12_attempts(app):
    assert app.config["PORTAL_OUTBOX_MAX_ATTEMPTS"] == 12


# --- 6. the recipient's language, attachments ----------------------------------------------------------


def test_the_same_template_in_czech_and_english(app, mailbox, queue_mail):
    [czech] = queue_mail(language="cs")
    [english] = queue_mail(language="en")
    db.session.commit()

    assert czech.subject == "Potvrzení e-mailové adresy"
    assert english.subject == "Confirm your e-mail address"
    assert "Český statistický úřad" in czech.body and "Czech Statistical Office" in english.body
    assert deliver_due(AT).sent == 2
    subjects = {mail["To"]: mail["Subject"] for mail in mailbox.messages}
    assert subjects == {czech.recipient: czech.subject, english.recipient: english.subject}


def test_an_unknown_language_is_refused(app, queue_mail):
    with pytest.raises(ValueError, match="'de'"):
        queue_mail(language="de")


def test_an_attachment_travels_with_the_mail(app, mailbox, queue_mail):
    invitation = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    queue_mail(attachments=[Attachment("volby.ics", "text/calendar; method=REQUEST", invitation)])
    db.session.commit()

    assert deliver_due(AT).sent == 1

    [mail] = mailbox.messages
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "volby.ics" and part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST" and part.get_content().encode() == invitation
    assert "Redakce" in body_of(mail)


# --- the portal's own mails go through the outbox ------------------------------------------------------


SIGNUP = {
    "organisation_name": "Prague Daily s.r.o.",
    "ico": "47114983",
    "address": "Václavské nám. 1, Praha",
    "website": "",
    "email": "desk@prague-daily.example",
    "password": "a long enough password",
    "password_again": "a long enough password",
    "language": "en",
}


def test_sign_up_queues_the_mail_with_the_account_and_the_sender_delivers_it(make_app, mailbox):
    app = make_app(PORTAL_OUTBOX_DELIVER_AFTER_COMMIT=False)  # as in production: the worker sends
    with app.app_context():
        response = post_form(app.test_client(), "/signup", SIGNUP)
        assert response.status_code == 200
        [row] = outbox_rows()
        assert row.recipient == "desk@prague-daily.example" and row.status is OutboxStatus.PENDING
        assert row.template == CONFIRM and row.subject == "Confirm your e-mail address"
        assert mailbox.messages == []

        assert deliver_due(utcnow()).sent == 1
        mail = mailbox.wait_for("desk@prague-daily.example")
        assert mail["Subject"] == "Confirm your e-mail address" and mail["Message-ID"] == row.message_id


def test_with_delivery_after_commit_a_request_sends_its_mails_when_it_ends(client, app, mailbox):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 200
    [row] = outbox_rows()
    assert row.status is OutboxStatus.SENT
    assert delivered_exactly_once(mailbox, [row])


def test_a_password_reset_request_is_queued_and_sent(client, app, mailbox, make_applicant):
    user = make_applicant(language="en")
    db.session.commit()

    post_form(client, "/reset", {"email": user.email})

    [row] = outbox_rows()
    assert row.template == "accounts/mail/reset.txt" and row.subject == "Reset your password"
    assert delivered_exactly_once(mailbox, [row])


def test_the_console_backend_prints_the_mail_readably_through_the_outbox(make_app, mailbox, queue_mail, capsys):
    app = make_app(PORTAL_MAIL_BACKEND="console")  # development: `make run` prints mail instead of sending it
    with app.app_context():
        [row] = queue_mail(attachments=[Attachment("volby.ics", "text/calendar", b"BEGIN:VCALENDAR\r\n")])
        db.session.commit()

        assert deliver_due(AT).sent == 1
        message_id, last_line = row.message_id, row.body.splitlines()[-1]

    printed = capsys.readouterr().err
    assert f"Message-ID: {message_id}" in printed and "Subject: Potvrzení e-mailové adresy" in printed
    assert last_line in printed and "http://portal.test/confirm/" in printed
    assert "[attachment volby.ics (text/calendar)]" in printed
    assert mailbox.messages == []


def test_only_mails_of_a_committed_outermost_transaction_count_as_committed(app, queue_mail):
    """What the after-commit delivery picks up: savepoints and rollbacks are followed."""
    committed = outbox._COMMITTED
    queue_mail()
    with db.session.begin_nested():
        queue_mail()
    assert committed not in db.session.info  # a released savepoint is not a commit
    db.session.rollback()
    assert committed not in db.session.info

    [kept] = queue_mail()
    with db.session.begin_nested():
        [inner] = queue_mail()
    db.session.commit()

    assert db.session.info[committed] == {kept.id, inner.id}


def test_the_outbox_settings_come_from_the_environment_and_are_checked():
    settings = load_settings(
        environ={
            "PORTAL_OUTBOX_MAX_ATTEMPTS": "5",
            "PORTAL_OUTBOX_LEASE_SECONDS": "600",
            "PORTAL_OUTBOX_DELIVER_AFTER_COMMIT": "true",
        }
    )
    assert settings["PORTAL_OUTBOX_MAX_ATTEMPTS"] == 5 and settings["PORTAL_OUTBOX_LEASE_SECONDS"] == 600
    assert settings["PORTAL_OUTBOX_DELIVER_AFTER_COMMIT"] is True
    assert load_settings(environ={})["PORTAL_OUTBOX_DELIVER_AFTER_COMMIT"] is False
    for name, value in [("PORTAL_OUTBOX_MAX_ATTEMPTS", "0"), ("PORTAL_OUTBOX_LEASE_SECONDS", "10")]:
        with pytest.raises(ConfigurationError, match=name):
            load_settings(environ={name: value})
