"""Is a draft ready to be signed? Everything a submission would check, read before the signature.

The PDF download and the signed upload are offered only for a ready draft, so nobody signs with a
qualified certificate what the upload would then refuse. Reads only: nothing is locked or written;
:func:`portal.registration.service.submit` checks again, under the quota lock, when it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allowlist.addresses import AddressPolicy
from portal.elections.service import accepts_applications
from portal.registration.content import clean_content
from portal.registration.errors import (
    ContentInvalid,
    DeadlinePassed,
    IllegalTransition,
    QuotaExceeded,
    RegistrationError,
)
from portal.registration.models import (
    MAX_PRODUCTION_ADDRESSES,
    MAX_TEST_ADDRESSES,
    AddressKind,
    ApplicationVersion,
    VersionState,
)
from portal.registration.quota import claimed_addresses
from portal.registration.service import content_of
from portal.submissions.readiness import Readiness

#: The form field a problem of each content field points at (list problems point at their first row).
FIELD_ANCHORS = {
    "contact_email": "contact_email",
    "contact_phone": "contact_phone",
    "production": "production-0",
    "test": "test-0",
    "accept_terms": "accept_terms",
    "note": "note",
}


@dataclass(frozen=True)
class Problem:
    """One thing standing between the draft and its signature."""

    #: The content field (``contact_phone``, ``production``) or ``quota``, ``deadline``, ``state``.
    field: str
    #: The row of a list field as the form shows it (0-based), else None.
    position: int | None
    code: str
    detail: dict[str, object]
    #: The error the service would raise for it (for the shared wording of messages).
    error: RegistrationError | None = None

    @property
    def anchor(self) -> str:
        """The id of the form input to link to."""
        if self.position is not None:
            return f"{self.field}-{self.position}"
        return FIELD_ANCHORS.get(self.field, self.field)


def readiness(version: ApplicationVersion, policy: AddressPolicy, *, at: datetime) -> Readiness[Problem]:
    """What keeps ``version`` from being signed and submitted at ``at``; nothing when it is ready.

    Checks the state, the deadline, completeness and validity of the saved content, and the
    organisation's 5 + 5 address quota counted with its other applications in the election.
    """
    if version.state is not VersionState.DRAFT:
        error = IllegalTransition(action="submit", state=version.state.value)
        return Readiness([Problem("state", None, error.code, {}, error)])
    problems: list[Problem] = []
    election = version.application.election
    if not accepts_applications(election, at):
        error = DeadlinePassed(closes_at=election.applications_close_at)
        problems.append(Problem("deadline", None, error.code, {}, error))
    try:
        clean_content(content_of(version), policy, require_complete=True)
    except ContentInvalid as invalid:
        problems += content_problems(invalid)
    problems += quota_problems(version)
    return Readiness(problems)


def content_problems(invalid: ContentInvalid) -> list[Problem]:
    """Every problem of a refused content, list rows one by one."""
    problems: list[Problem] = []
    for name, (code, detail) in invalid.errors.items():
        rows = invalid.entries.get(name)
        if rows:
            problems += [Problem(name, position, row_code, row_detail) for position, row_code, row_detail in rows]
        else:
            problems.append(Problem(name, None, code, detail))
    return problems


def quota_problems(version: ApplicationVersion) -> list[Problem]:
    """The organisation's addresses in the election if this version were submitted, over the limits."""
    application = version.application
    claimed = claimed_addresses(application.organisation_id, application.election_id, claiming_instead=version)
    problems = []
    for kind, limit in ((AddressKind.PRODUCTION, MAX_PRODUCTION_ADDRESSES), (AddressKind.TEST, MAX_TEST_ADDRESSES)):
        if len(claimed[kind]) > limit:
            error = QuotaExceeded(kind=kind.value, limit=limit, claimed=len(claimed[kind]))
            problems.append(Problem(kind.value, None, error.code, {"limit": limit}, error))
    return problems
