"""What can go wrong with an application; each error carries a stable code and its data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from allowlist.addresses import AddressRefused
from portal.problems import PortalError


class RegistrationError(PortalError):
    code: str = "registration_error"


@dataclass
class DeadlinePassed(RegistrationError):
    #: The exclusive end of the deadline (the instant the next Prague day begins).
    closes_at: datetime
    code: str = "deadline_passed"


@dataclass
class IllegalTransition(RegistrationError):
    action: str
    state: str
    code: str = "illegal_transition"


@dataclass
class StaleVersion(RegistrationError):
    """The version the request was about is no longer the one to act on: another change came first."""

    action: str
    expected: int  #: the version number the request was about
    current: int  #: the number of the version that is there now
    code: str = "stale_version"


@dataclass
class QuotaExceeded(RegistrationError):
    kind: str
    limit: int
    claimed: int
    code: str = "quota_exceeded"


@dataclass
class ContentInvalid(RegistrationError):
    """Field name -> (code, detail); details are the data a message needs (an address, an index).

    ``entries`` holds every refused row of a list field (name -> [(row as typed, code, detail)]):
    ``errors`` names only the first problem of each field.
    """

    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)
    entries: dict[str, list[tuple[int, str, dict[str, object]]]] = field(default_factory=dict)
    code: str = "content_invalid"


@dataclass
class SignatureRequired(RegistrationError):
    code: str = "signature_required"


@dataclass
class ConflictsNotAcknowledged(RegistrationError):
    addresses: list[str]
    code: str = "conflicts_not_acknowledged"


@dataclass
class FourEyesRequired(RegistrationError):
    """The approver recorded the version's data-box submission: another reviewer must decide."""

    code: str = "four_eyes_required"


__all__ = [
    "AddressRefused",
    "ConflictsNotAcknowledged",
    "ContentInvalid",
    "DeadlinePassed",
    "FourEyesRequired",
    "IllegalTransition",
    "QuotaExceeded",
    "RegistrationError",
    "SignatureRequired",
    "StaleVersion",
]
