"""Sending one e-mail over SMTP, or printing it in development.

Features do not call this directly: they enqueue into the transactional outbox
(:mod:`portal.notifications.outbox`), whose sender uses :func:`compose` and :func:`deliver`.
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale

#: The right-hand side of our Message-IDs.
MESSAGE_ID_DOMAIN = "volby-media.czso.cz"


def new_message_id() -> str:
    """A globally unique RFC 5322 Message-ID, angle brackets included."""
    return make_msgid(domain=MESSAGE_ID_DOMAIN)


def compose(to: str, subject: str, body: str, *, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["PORTAL_MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or new_message_id()
    message.set_content(body)
    return message


def render_mail(template: str, language: str, **context: object) -> tuple[str, str]:
    """Subject and body in the recipient's language; the template's first line is the subject."""
    with force_locale(language):
        text = render_template(template, **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def deliver(message: EmailMessage) -> None:
    """Hand the message to the configured backend; SMTP errors propagate to the caller."""
    config = current_app.config
    if config["PORTAL_MAIL_BACKEND"] == "console":
        print(f"\n----- mail -----\n{readable(message)}\n----- end -----", file=sys.stderr, flush=True)
        return
    with smtplib.SMTP(config["PORTAL_SMTP_HOST"], config["PORTAL_SMTP_PORT"], timeout=30) as smtp:
        if config["PORTAL_SMTP_STARTTLS"]:
            smtp.starttls()
        if config["PORTAL_SMTP_USERNAME"]:
            smtp.login(config["PORTAL_SMTP_USERNAME"], config["PORTAL_SMTP_PASSWORD"])
        smtp.send_message(message)


def readable(message: EmailMessage) -> str:
    """The message as a person reads it: headers, the decoded text (links intact), attachment names."""
    transport = {"content-type", "content-transfer-encoding", "mime-version"}
    lines = [f"{name}: {value}" for name, value in message.items() if name.lower() not in transport]
    text = message.get_body(preferencelist=("plain",))
    lines += ["", str(text.get_content()).rstrip() if text is not None else ""]
    lines += [f"[attachment {part.get_filename()} ({part.get_content_type()})]" for part in message.iter_attachments()]
    return "\n".join(lines)


def send_template_mail(to: str, template: str, language: str, **context: object) -> None:
    """Send at once, outside any transaction: prefer :func:`portal.notifications.outbox.enqueue`."""
    subject, body = render_mail(template, language, **context)
    deliver(compose(to, subject, body))
