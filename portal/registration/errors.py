"""What can go wrong with an application; each error carries a stable code and its data."""

from __future__ import annotations

from dataclasses import dataclass, field

from allowlist.addresses import AddressRefused
from portal.problems import PortalError
from portal.submissions import errors as shared


class RegistrationError(PortalError):
    code: str = "registration_error"


class DeadlinePassed(shared.DeadlinePassed, RegistrationError):
    """Applications are no longer accepted in the election."""


class IllegalTransition(shared.IllegalTransition, RegistrationError):
    """Not possible in the application version's state."""


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
class ContentInvalid(shared.ContentInvalid, RegistrationError):
    """Field name -> (code, detail); details are the data a message needs (an address, an index).

    ``entries`` holds every refused row of a list field (name -> [(row as typed, code, detail)]):
    ``errors`` names only the first problem of each field.
    """

    entries: dict[str, list[tuple[int, str, dict[str, object]]]] = field(default_factory=dict)


class SignatureRequired(shared.SignatureRequired, RegistrationError):
    """The election accepts only a signed upload or a data-box delivery."""


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
