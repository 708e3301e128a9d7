"""RFC 5545 invitations for the technical meeting, made with the ``icalendar`` package.

Times are Europe/Prague wall-clock times with a VTIMEZONE for the years around the meeting. The UID
is the meeting's, fixed when it is scheduled; SEQUENCE grows with every change, so calendar clients
replace the earlier version; a cancellation is METHOD:CANCEL with STATUS:CANCELLED (RFC 5546).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parseaddr
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

from portal.elections.prague import to_prague
from portal.meetings.models import TechnicalMeeting

PRODID = "-//Czech Statistical Office//Media portal//CS"
Method = Literal["REQUEST", "CANCEL"]


def meeting_ics(
    meeting: TechnicalMeeting,
    *,
    method: Method,
    attendee: str,
    organizer: str,
    summary: str,
    description: str,
    at: datetime,
) -> bytes:
    """The calendar object sent to ``attendee``; ``organizer`` is a mail address, optionally with a name."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", at.astimezone(UTC))
    event.add("dtstart", to_prague(meeting.starts_at))
    event.add("dtend", to_prague(meeting.ends_at))
    event.add("summary", summary)
    location = meeting.place or meeting.video_link
    if location:
        event.add("location", location)
    if meeting.video_link:
        event.add("url", meeting.video_link)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    name, address = parseaddr(organizer)
    organizer_address = vCalAddress(f"mailto:{address or organizer}")
    if name:
        organizer_address.params["cn"] = vText(name)
    event.add("organizer", organizer_address)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("NEEDS-ACTION")
    guest.params["rsvp"] = vText("FALSE")  # outlets answer in the portal, with the names of who comes
    event.add("attendee", guest)
    calendar.add_component(event)
    first, last = to_prague(meeting.starts_at).year, to_prague(meeting.ends_at).year
    calendar.add_missing_timezones(first_date=date(first - 1, 1, 1), last_date=date(last + 1, 12, 31))
    return calendar.to_ical()


def content_type(method: Method) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"
