"""Sending one e-mail over SMTP, or printing it in development.

The transactional outbox builds on this; callers send only after their transaction committed.
"""

from __future__ import annotations

import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale


def compose(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["PORTAL_MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="volby-media.czso.cz")
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
        print(f"\n----- mail -----\n{message}\n----- end -----", file=sys.stderr, flush=True)
        return
    with smtplib.SMTP(config["PORTAL_SMTP_HOST"], config["PORTAL_SMTP_PORT"], timeout=30) as smtp:
        if config["PORTAL_SMTP_STARTTLS"]:
            smtp.starttls()
        if config["PORTAL_SMTP_USERNAME"]:
            smtp.login(config["PORTAL_SMTP_USERNAME"], config["PORTAL_SMTP_PASSWORD"])
        smtp.send_message(message)


def send_template_mail(to: str, template: str, language: str, **context: object) -> None:
    subject, body = render_mail(template, language, **context)
    deliver(compose(to, subject, body))
