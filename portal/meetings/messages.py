"""The user's words for the meeting errors."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.meetings.errors import (
    DetailsInvalid,
    IllegalState,
    MeetingError,
    MeetingExists,
    NobodyToMail,
    NotRegistered,
    RepliesClosed,
)
from portal.problems import describes

FIELD_ERRORS = {
    "required": _l("This field is required."),
    "too_long": _l("At most %(max)d characters."),
    "too_many": _l("At most %(max)d names."),
    "order": _l("The meeting ends before it starts."),
    "past": _l("The meeting must start in the future."),
    "place_or_link": _l("Give a place or a link to the video meeting."),
    "invalid_link": _l("Enter the link to the video meeting starting with https://."),
    "nonexistent": _l("This time does not exist in Prague: the clocks skip that hour."),
    "duration": _l("A meeting lasts at most 12 hours."),
}


def field_error_message(code: str, detail: dict[str, object]) -> str:
    message = str(FIELD_ERRORS.get(code, FIELD_ERRORS["required"]))
    return message % detail if detail else message


@describes(MeetingError)
def error_message(error: MeetingError) -> str:
    if isinstance(error, MeetingExists):
        return _("The election already has a scheduled meeting; change it or cancel it first.")
    if isinstance(error, NotRegistered):
        return _("Only outlets with an approved application in this election take part in the technical meeting.")
    if isinstance(error, RepliesClosed):
        return _("Replies are closed: the meeting has started or was cancelled.")
    if isinstance(error, NobodyToMail):
        return _("No outlet has an approved application in this election yet.")
    if isinstance(error, DetailsInvalid):
        problems = "; ".join(field_error_message(code, detail) for code, detail in error.errors.values())
        return _("Please check the form: %(problems)s", problems=problems)
    if isinstance(error, IllegalState):
        return _("This is not possible in the current state.")
    return _("The change could not be made.")
