"""The drill's mail capture: a real SMTP listener that keeps every message."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from drill.mail import MailCapture, attachments_of


def test_mail_capture_keeps_every_message() -> None:
    with MailCapture() as capture:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "portal@drill.example",
            "outlet01@drill.example",
            "Pozvánka",
        )
        message["Message-ID"] = "<1@drill.example>"
        message.set_content("Dobrý den")
        message.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar", filename="invitation.ics")
        with smtplib.SMTP("127.0.0.1", capture.port, timeout=10) as smtp:
            smtp.send_message(message)
        got = capture.wait_for(lambda messages: len(messages) >= 1, timeout=10)
        assert [m["Subject"] for m in got] == ["Pozvánka"]
        assert attachments_of(got[0]) == [("invitation.ics", "text/calendar")]
        assert capture.wait_for(lambda messages: len(messages) >= 2, timeout=0.2) == got
