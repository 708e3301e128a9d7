"""``portal outbox send`` and ``portal outbox status``; the sender loop as a real process with signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from portal import create_app
from portal.cli import main
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import OutboxStatus
from portal.notifications.outbox import deliver_due
from tests.conftest import portal_test_config
from tests.mailbox import free_port
from tests.notifications.conftest import outbox_rows

PORTAL = Path(sys.executable).parent / "portal"


def run(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_send_once_delivers_what_is_due_and_prints_the_counts(app, mailbox, queue_mail):
    queue_mail(2, at=utcnow())
    db.session.commit()

    result = run(app, "outbox", "send", "--once")

    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0 (dead 0), remaining 0" in result.output
    assert len(mailbox.messages) == 2


def test_send_once_exits_0_when_smtp_is_down_and_keeps_the_mail(app, mailbox, queue_mail):
    queue_mail(1, at=utcnow())
    db.session.commit()
    app.config["PORTAL_SMTP_PORT"] = free_port()

    result = run(app, "outbox", "send", "--once")

    assert result.exit_code == 0, result.output
    assert "sent 0, failed 1 (dead 0), remaining 1" in result.output
    assert [row.status for row in outbox_rows()] == [OutboxStatus.PENDING]


def test_send_once_exits_1_when_the_database_cannot_be_reached(tmp_path, smtp_server):
    unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'portal.sqlite'}"
    app = create_app(portal_test_config(unreachable, smtp_server[0]))

    result = app.test_cli_runner().invoke(main, ["outbox", "send", "--once"])

    assert result.exit_code == 1
    assert "cannot reach the database" in result.output


def test_status_counts_every_state(app, mailbox, queue_mail):
    queue_mail(2, at=utcnow())
    db.session.commit()
    deliver_due(utcnow(), limit=1)

    result = run(app, "outbox", "status")

    assert result.exit_code == 0
    assert result.output.split() == ["pending", "1", "sending", "0", "sent", "1", "dead", "0"]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_sender_loop_delivers_then_stops_cleanly_on_a_signal(
    make_app, smtp_server, mailbox, queue_mail, stop_signal
):
    app = make_app()
    with app.app_context():
        recipient = queue_mail(1, at=utcnow())[0].recipient
        db.session.commit()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    environment.update(
        PORTAL_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PORTAL_MAIL_BACKEND="smtp",
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(smtp_server[0]),
    )
    sender = subprocess.Popen(
        [str(PORTAL), "outbox", "send", "--interval", "0.2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mailbox.wait_for(recipient, timeout=30)
        sender.send_signal(stop_signal)
        output, errors = sender.communicate(timeout=30)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()

    assert sender.returncode == 0, errors
    assert "outbox: sent 1, failed 0 (dead 0), remaining 0" in output
    assert "stopping after the current mail" in errors and "outbox: stopped" in errors
    with app.app_context():
        assert [r.status for r in outbox_rows()] == [OutboxStatus.SENT]
