"""Meeting fixtures: an election with two registered (approved) outlets and one that is not."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from icalendar import Calendar

from portal.accounts.models import Organisation, User
from portal.extensions import db
from portal.notifications.models import OutboxMessage


@dataclass
class Outlets:
    czech: User  #: its application's contact is the applicant
    english: User  #: writes in English; its application names another contact
    unregistered: User  #: only a draft application
    staff: User

    @property
    def czech_organisation(self) -> Organisation:
        assert self.czech.organisation is not None
        return self.czech.organisation


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def outlets(election, make_applicant, make_organisation, make_application, make_staff) -> Outlets:
    staff = make_staff()
    czech = make_applicant(make_organisation(name="Rádio Praha s.r.o."), email="redakce@radio.example")
    english = make_applicant(make_organisation(name="Foreign Wire Ltd."), email="desk@wire.example", language="en")
    unregistered = make_applicant(make_organisation(name="Nový deník"), email="novy@denik.example")
    make_application(election, czech, production=["192.0.2.10"], state="approved", staff=staff)
    wire = make_application(election, english, production=["192.0.2.20"], state="approved", staff=staff)
    wire.in_force.contact_email = "night@wire.example"
    make_application(election, unregistered, production=["192.0.2.30"])
    db.session.flush()
    return Outlets(czech, english, unregistered, staff)


def outbox_to(address: str, template: str | None = None) -> list[OutboxMessage]:
    messages = db.session.query(OutboxMessage).filter(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
    return [m for m in messages if template is None or m.template == template]


def calendar_of(message) -> Calendar:  # type: ignore[no-untyped-def]
    """The .ics attached to an outbox row or to a received e-mail, parsed back with icalendar."""
    if isinstance(message, OutboxMessage):
        import base64

        (attachment,) = message.attachments
        return Calendar.from_ical(base64.b64decode(attachment["data"]))
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))
