"""What can go wrong with collection points, permit requests and permits: stable codes with their data."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.problems import PortalError
from portal.submissions import errors as shared


class FilmingError(PortalError):
    code: str = "filming_error"


class DeadlinePassed(shared.DeadlinePassed, FilmingError):
    """Permit requests are no longer accepted in the election."""


class ContentInvalid(shared.ContentInvalid, FilmingError):
    """Field -> (code, detail). Person fields are named as the form names them: ``persons-2-phone``."""


@dataclass
class CapacityExceeded(FilmingError):
    """Approving would put more persons at the point at one time than it takes."""

    point: str  #: the point's name
    capacity: int
    peak: int  #: persons there at the busiest moment, the new one included
    others: list[str]  #: "name (from-to)" of the approved persons overlapping the window
    code: str = "capacity_exceeded"


class IllegalTransition(shared.IllegalTransition, FilmingError):
    """Not possible in the request's or the person's state."""


class SignatureRequired(shared.SignatureRequired, FilmingError):
    """The election accepts only a request signed with a recognised electronic signature."""


class SignatureRefused(shared.SignatureRefused, FilmingError):
    """The upload's signature does not meet R6; the verdict says why."""


@dataclass
class WindowInvalid(FilmingError):
    #: "order" (ends before it starts), "outside_round" (not within the round), "too_long"
    reason: str
    code: str = "window_invalid"


@dataclass
class PointUnavailable(FilmingError):
    point: str
    code: str = "point_unavailable"


@dataclass
class DeadlineInvalid(FilmingError):
    code: str = "deadline_invalid"


@dataclass
class OfficeSignerMissing(FilmingError):
    """No office signing key and certificate are configured (PORTAL_OFFICE_SIGNING_KEY/CERT)."""

    detail: str = ""
    code: str = "office_signer_missing"


@dataclass
class PointInvalid(FilmingError):
    """Field -> (code, detail) for one collection point."""

    errors: dict[str, tuple[str, dict[str, object]]] = field(default_factory=dict)
    code: str = "point_invalid"


@dataclass(frozen=True)
class CsvProblem:
    line: int  #: 1 is the header
    field: str  #: the column, or "" for the file or the row as a whole
    code: str
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class PointsCsvInvalid(FilmingError):
    """The file was refused as a whole: nothing was imported."""

    problems: list[CsvProblem] = field(default_factory=list)
    code: str = "points_csv_invalid"
