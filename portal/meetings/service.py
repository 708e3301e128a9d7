"""The technical meeting (R9): staff schedule, change or cancel it; every registered outlet's contacts
get an invitation with an .ics through the outbox; outlets reply with who will attend.

"Registered outlets" are the organisations with an approved application in the election. Services
flush, never commit; every change writes an audit event and its mails in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.audit.service import record
from portal.elections.models import Election
from portal.extensions import db
from portal.meetings.errors import (
    DetailsInvalid,
    IllegalState,
    MeetingExists,
    NobodyToMail,
    NotRegistered,
    RepliesClosed,
)
from portal.meetings.ics import Method, content_type, meeting_ics
from portal.meetings.models import (
    MAX_ATTENDEES,
    MeetingInvitation,
    MeetingReply,
    MeetingState,
    TechnicalMeeting,
)
from portal.notifications.mail import MESSAGE_ID_DOMAIN
from portal.notifications.outbox import Attachment, enqueue
from portal.registration.models import Application

MAX_DURATION = timedelta(hours=12)
MAX_AGENDA = 5000
MAX_SUBJECT = 200
MAX_BODY = 10000


@dataclass(frozen=True)
class MeetingDetails:
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    video_link: str = ""
    agenda: str = ""


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str
    organisation: Organisation | None


def clean_details(details: MeetingDetails, *, at: datetime) -> MeetingDetails:
    """Checked and trimmed: in the future, in order, in a place or on a video link (https)."""
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    if details.ends_at <= details.starts_at:
        errors["ends_at"] = ("order", {})
    elif details.ends_at - details.starts_at > MAX_DURATION:
        errors["ends_at"] = ("duration", {})
    if details.starts_at <= at:
        errors["starts_at"] = ("past", {})
    place, link, agenda = details.place.strip(), details.video_link.strip(), details.agenda.strip()
    if len(place) > 500:
        errors["place"] = ("too_long", {"max": 500})
    if link:
        parts = urlsplit(link)
        if parts.scheme != "https" or not parts.hostname or len(link) > 500 or any(c.isspace() for c in link):
            errors["video_link"] = ("invalid_link", {})
    if not place and not link:
        errors["place"] = ("place_or_link", {})
    if len(agenda) > MAX_AGENDA:
        errors["agenda"] = ("too_long", {"max": MAX_AGENDA})
    if errors:
        raise DetailsInvalid(errors)
    return MeetingDetails(details.starts_at, details.ends_at, place, link, agenda)


# Who takes part -------------------------------------------------------------------------------------------


def registered_organisations(election: Election) -> list[Organisation]:
    applications = db.session.scalars(
        select(Application).where(Application.election_id == election.id).order_by(Application.id)
    ).all()
    found: dict[int, Organisation] = {}
    for application in applications:
        if application.in_force is not None:
            found.setdefault(application.organisation_id, application.organisation)
    return sorted(found.values(), key=lambda o: o.name)


def is_registered(organisation: Organisation, election: Election) -> bool:
    return any(o.id == organisation.id for o in registered_organisations(election))


def recipients(election: Election) -> list[Recipient]:
    """The contacts of every registered outlet: the application's contact and its author, once each."""
    found: dict[str, Recipient] = {}
    applications = db.session.scalars(
        select(Application).where(Application.election_id == election.id).order_by(Application.id)
    ).all()
    for application in applications:
        version = application.in_force
        if version is None:
            continue
        language = application.created_by.language
        for email in (version.contact_email, application.created_by.email):
            if email and email.lower() not in found:
                found[email.lower()] = Recipient(email, language, application.organisation)
    return sorted(found.values(), key=lambda r: r.email)


# Scheduling ---------------------------------------------------------------------------------------------------


def current_meeting(election: Election) -> TechnicalMeeting | None:
    """The scheduled meeting, else the last one cancelled (outlets still see that it was cancelled)."""
    return db.session.scalar(
        select(TechnicalMeeting)
        .where(TechnicalMeeting.election_id == election.id)
        .order_by((TechnicalMeeting.state == MeetingState.SCHEDULED).desc(), TechnicalMeeting.id.desc())
        .limit(1)
    )


def _audited(meeting: TechnicalMeeting) -> dict[str, object]:
    return {
        "sequence": meeting.sequence,
        "state": meeting.state,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "place": meeting.place,
        "video_link": meeting.video_link,
        "agenda": meeting.agenda,
    }


def schedule(election: Election, details: MeetingDetails, *, staff: User, at: datetime) -> TechnicalMeeting:
    """Schedule the election's meeting and invite every registered outlet (SEQUENCE 0)."""
    clean = clean_details(details, at=at)
    existing = current_meeting(election)
    if existing is not None and existing.state is MeetingState.SCHEDULED:
        raise MeetingExists()
    meeting = TechnicalMeeting(
        election=election,
        uid=f"meeting-{election.code}-{secrets.token_hex(8)}@{MESSAGE_ID_DOMAIN}",
        sequence=0,
        state=MeetingState.SCHEDULED,
        starts_at=clean.starts_at,
        ends_at=clean.ends_at,
        place=clean.place,
        video_link=clean.video_link,
        agenda=clean.agenda,
        created_at=at,
        created_by=staff,
    )
    db.session.add(meeting)
    db.session.flush()
    record("meeting.scheduled", meeting, actor=staff, at=at, after=_audited(meeting))
    _send(meeting, "REQUEST", recipients(election), at=at)
    return meeting


def update(meeting: TechnicalMeeting, details: MeetingDetails, *, staff: User, at: datetime) -> bool:
    """Change the meeting; everyone invited and every registered outlet gets it again with SEQUENCE + 1.

    Returns False (and sends nothing) when nothing changed.
    """
    if meeting.state is not MeetingState.SCHEDULED:
        raise IllegalState(action="update", state=meeting.state.value)
    clean = clean_details(details, at=at)
    before = _audited(meeting)
    changes = {
        "starts_at": clean.starts_at,
        "ends_at": clean.ends_at,
        "place": clean.place,
        "video_link": clean.video_link,
        "agenda": clean.agenda,
    }
    if all(getattr(meeting, name) == value for name, value in changes.items()):
        return False
    for name, value in changes.items():
        setattr(meeting, name, value)
    meeting.sequence += 1
    meeting.updated_at = at
    db.session.flush()
    record("meeting.updated", meeting, actor=staff, at=at, before=before, after=_audited(meeting))
    _send(meeting, "REQUEST", _everyone(meeting), at=at)
    return True


def cancel(meeting: TechnicalMeeting, *, staff: User, at: datetime, reason: str = "") -> None:
    """Cancel the meeting: METHOD:CANCEL with SEQUENCE + 1 to everyone who was invited."""
    if meeting.state is not MeetingState.SCHEDULED:
        raise IllegalState(action="cancel", state=meeting.state.value)
    before = _audited(meeting)
    meeting.state = MeetingState.CANCELLED
    meeting.sequence += 1
    meeting.cancelled_at = at
    meeting.updated_at = at
    db.session.flush()
    record(
        "meeting.cancelled", meeting, actor=staff, at=at, before=before, after=_audited(meeting), reason=reason or None
    )
    invited = [Recipient(i.email, i.language, i.organisation) for i in meeting.invitations]
    _send(meeting, "CANCEL", invited, at=at)


def invite_new(meeting: TechnicalMeeting, *, staff: User, at: datetime) -> int:
    """Send the current invitation to outlets registered since it went out; returns how many got it."""
    if meeting.state is not MeetingState.SCHEDULED:
        raise IllegalState(action="invite", state=meeting.state.value)
    invited = {i.email.lower() for i in meeting.invitations}
    new = [r for r in recipients(meeting.election) if r.email.lower() not in invited]
    if new:
        _send(meeting, "REQUEST", new, at=at)
        record("meeting.invited", meeting, actor=staff, at=at, after={"recipients": [r.email for r in new]})
    return len(new)


def _everyone(meeting: TechnicalMeeting) -> list[Recipient]:
    """Those invited before and every registered outlet now, once each."""
    found = {i.email.lower(): Recipient(i.email, i.language, i.organisation) for i in meeting.invitations}
    for recipient in recipients(meeting.election):
        found.setdefault(recipient.email.lower(), recipient)
    return sorted(found.values(), key=lambda r: r.email)


def _send(meeting: TechnicalMeeting, method: Method, to: Iterable[Recipient], *, at: datetime) -> None:
    sender = current_app.config["PORTAL_MAIL_SENDER"]
    base_url = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    template = "meetings/mail/cancellation.txt" if method == "CANCEL" else "meetings/mail/invitation.txt"
    by_email = {i.email.lower(): i for i in meeting.invitations}
    for recipient in to:
        reply_url = (
            f"{base_url}/organisations/{recipient.organisation.id}/meetings/{meeting.election.code}"
            if recipient.organisation is not None
            else base_url
        )
        with force_locale(recipient.language):
            summary = _("Technical meeting: %(election)s", election=meeting.election.display_name)
            description = _description(meeting, reply_url, method)
        data = meeting_ics(
            meeting,
            method=method,
            attendee=recipient.email,
            organizer=sender,
            summary=summary,
            description=description,
            at=at,
        )
        filename = "cancellation.ics" if method == "CANCEL" else "invitation.ics"
        enqueue(
            recipient.email,
            template,
            recipient.language,
            at=at,
            attachments=[Attachment(filename, content_type(method), data)],
            meeting=meeting,
            reply_url=reply_url,
            update=meeting.sequence > 0,
        )
        invitation = by_email.get(recipient.email.lower())
        if invitation is None:
            invitation = MeetingInvitation(
                email=recipient.email,
                organisation=recipient.organisation,
                language=recipient.language,
                sequence=meeting.sequence,
                sent_at=at,
            )
            meeting.invitations.append(invitation)
            by_email[recipient.email.lower()] = invitation
        invitation.sequence = meeting.sequence
        invitation.sent_at = at
    db.session.flush()


def _description(meeting: TechnicalMeeting, reply_url: str, method: Method) -> str:
    if method == "CANCEL":
        return _("The technical meeting has been cancelled.")
    parts = [meeting.agenda] if meeting.agenda else []
    if meeting.video_link:
        parts.append(_("Video meeting: %(link)s", link=meeting.video_link))
    parts.append(_("Tell us who will attend: %(url)s", url=reply_url))
    return "\n\n".join(parts)


# The outlets' replies and mail to all ----------------------------------------------------------------------


def clean_attendees(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        name = " ".join(name.split())
        if name and name.casefold() not in {n.casefold() for n in cleaned}:
            cleaned.append(name)
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    if len(cleaned) > MAX_ATTENDEES:
        errors["attendees"] = ("too_many", {"max": MAX_ATTENDEES})
    if any(len(name) > 200 for name in cleaned):
        errors["attendees"] = ("too_long", {"max": 200})
    if errors:
        raise DetailsInvalid(errors)
    return cleaned


def reply_of(meeting: TechnicalMeeting, organisation: Organisation) -> MeetingReply | None:
    return next((r for r in meeting.replies if r.organisation_id == organisation.id), None)


def reply(
    meeting: TechnicalMeeting, organisation: Organisation, names: Iterable[str], *, user: User, at: datetime
) -> MeetingReply:
    """The outlet's attendees (none: it will not come); may be changed until the meeting starts."""
    if meeting.state is not MeetingState.SCHEDULED or at >= meeting.starts_at:
        raise RepliesClosed()
    if not is_registered(organisation, meeting.election):
        raise NotRegistered()
    attendees = clean_attendees(names)
    existing = reply_of(meeting, organisation)
    before = {"attendees": existing.attendees} if existing else None
    if existing is None:
        existing = MeetingReply(organisation=organisation, attendees=attendees, replied_at=at, replied_by=user)
        meeting.replies.append(existing)
    existing.attendees = attendees
    existing.replied_at = at
    existing.replied_by = user
    db.session.flush()
    record(
        "meeting.replied",
        meeting,
        actor=user,
        at=at,
        before=before,
        after={"organisation": organisation.id, "attendees": attendees},
    )
    return existing


def mail_outlets(election: Election, subject: str, body: str, *, staff: User, at: datetime) -> int:
    """A message from staff to the contacts of every registered outlet; returns how many mails."""
    subject, body = " ".join(subject.split()), body.strip()
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    if not subject:
        errors["subject"] = ("required", {})
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = ("too_long", {"max": MAX_SUBJECT})
    if not body:
        errors["body"] = ("required", {})
    elif len(body) > MAX_BODY:
        errors["body"] = ("too_long", {"max": MAX_BODY})
    if errors:
        raise DetailsInvalid(errors)
    to = recipients(election)
    if not to:
        raise NobodyToMail()
    for recipient in to:
        enqueue(
            recipient.email,
            "meetings/mail/message.txt",
            recipient.language,
            at=at,
            election=election,
            subject=subject,
            body=body,
        )
    record(
        "meeting.outlets_mailed",
        election,
        actor=staff,
        at=at,
        after={"subject": subject, "recipients": [r.email for r in to]},
    )
    return len(to)
