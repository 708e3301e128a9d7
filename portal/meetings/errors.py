"""What can go wrong with the technical meeting: stable codes with their data."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.problems import PortalError


class MeetingError(PortalError):
    code: str = "meeting_error"


@dataclass
class DetailsInvalid(MeetingError):
    """Field -> (code, detail)."""

    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)
    code: str = "details_invalid"


@dataclass
class MeetingExists(MeetingError):
    code: str = "meeting_exists"


@dataclass
class IllegalState(MeetingError):
    action: str
    state: str
    code: str = "illegal_state"


@dataclass
class NotRegistered(MeetingError):
    """Only outlets with an approved application in the election take part."""

    code: str = "not_registered"


@dataclass
class RepliesClosed(MeetingError):
    code: str = "replies_closed"


@dataclass
class NobodyToMail(MeetingError):
    code: str = "nobody_to_mail"
