"""Is a permit request's draft ready to be signed? What the submission would check, read beforehand.

The PDF to sign and the signed upload are offered only for a ready draft. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.filming.content import RequestContent, clean_request
from portal.filming.errors import ContentInvalid
from portal.filming.models import PermitRequest, RequestState
from portal.filming.service import accepts_requests, content_of, round_numbers
from portal.submissions.readiness import Readiness


@dataclass(frozen=True)
class Problem:
    #: The form input's id (``applicant_phone``, ``persons-1-email``), or ``deadline`` / ``state``.
    anchor: str
    code: str
    detail: dict[str, object]


def readiness(request: PermitRequest, *, at: datetime) -> Readiness[Problem]:
    """What keeps the draft ``request`` from being signed and submitted at ``at``."""
    if request.state is not RequestState.DRAFT:
        return Readiness([Problem("state", "illegal_transition", {})])
    problems = [] if accepts_requests(request.election, at) else [Problem("deadline", "deadline_passed", {})]
    try:
        clean_request(content_of(request), round_numbers(request.election), require_complete=True)
    except ContentInvalid as invalid:
        problems += [Problem(name, code, detail) for name, (code, detail) in invalid.errors.items()]
    return Readiness(problems)


def refuse_empty(content: RequestContent) -> None:
    """A draft names at least one person: an empty form is not saved silently."""
    if all(person.blank for person in content.persons):
        raise ContentInvalid({"persons": ("required_person", {})})
