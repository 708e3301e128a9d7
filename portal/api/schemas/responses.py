"""What ``/api/v1`` answers: elections, applications and errors.

An applicant's view of an application never contains the office's internal reason (R8) nor anything
about other organisations; those fields are set only for staff (and left out of the answer otherwise).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from allowlist.phase import Phase
from portal.api.errors import MAX_BODY_BYTES
from portal.api.schemas.types import Instant, NullableInstant, enum_schema
from portal.elections.models import ElectionKind, ElectionStatus
from portal.registration.models import VersionState

ERROR_CODES = {
    "unauthorized": "401: no valid session or token (an unknown, expired or revoked token)",
    "forbidden": "403: signed in, but not allowed (an applicant on a staff endpoint; staff without the second factor)",
    "insufficient_scope": "403: the token's scopes do not allow this (a token does no more than its scopes allow)",
    "four_eyes_required": "403: the caller recorded this version's data-box submission; another reviewer approves",
    "csrf_failed": "403: a browser session sent an unsafe request without a valid X-CSRFToken header",
    "not_found": "404: no such object, or it belongs to another organisation",
    "method_not_allowed": "405",
    "malformed_json": "400: the body is not a JSON object, or a field has the wrong type or is unknown",
    "validation_failed": "422: the values are refused; `fields` has the service's code for each field",
    "deadline_passed": "409: the election no longer accepts applications",
    "quota_exceeded": "409: the organisation would claim too many addresses in the election",
    "illegal_transition": "409: not possible in the application's current state",
    "stale_version": "409: the version acted on was replaced by another change meanwhile; reload and decide again",
    "conflict": "409: the request collided with a change made at the same moment; reload and try again",
    "signature_required": "409: the election requires a signed submission (not possible through the API)",
    "conflicts_not_acknowledged": "409: another organisation claims an address; approve with acknowledge_conflicts",
    "payload_too_large": f"413: the body is larger than {MAX_BODY_BYTES} bytes",
    "rate_limited": "429: too many requests; wait for Retry-After seconds",
    "internal_error": "500: a fault on our side (logged)",
    "database_busy": "503: the data is busy with another change; try again after Retry-After seconds",
}

FIELD_CODES = (
    "Shape (400): `missing`, `unknown_field`, `not_a_string`, `not_a_boolean`, `not_a_list_of_strings`, "
    "`invalid_text`, `not_a_positive_integer` (`expected_version`). Values (422), the registration service's "
    "codes: `required`, `invalid_email`, `invalid_phone`, `too_many`, `too_long`, `production_and_test`, "
    "`address_<reason>` (for example `address_private`, `address_duplicate`); and `unknown_election`, "
    "`invalid_choice`, `not_a_positive_integer`; a firewall report's: `invalid_host`, `not_a_count`, "
    "`not_an_instant`, `invalid_counts`."
)

StateField = Annotated[VersionState, enum_schema(VersionState)]


class FieldError(BaseModel):
    code: str = Field(description=FIELD_CODES)
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Stable: match on it. " + "; ".join(f"`{code}` {meaning}" for code, meaning in ERROR_CODES.items())
    )
    message: str = Field(description="For people, in the caller's language.")
    fields: dict[str, FieldError] = Field(default_factory=dict, description="Per field: what is wrong with it.")


class Error(BaseModel):
    error: ErrorDetail


class Round(BaseModel):
    number: int = Field(ge=1, description="2 is the run-off.")
    voting_starts_at: Instant
    voting_ends_at: Instant
    processing_starts_at: Instant = Field(description="Test addresses are cut from here (live phase).")
    live_ends_at: Instant


class ElectionName(BaseModel):
    cs: str
    en: str


class Election(BaseModel):
    code: str = Field(examples=["prez2028"])
    name: ElectionName
    kind: Annotated[ElectionKind, enum_schema(ElectionKind)]
    status: Annotated[ElectionStatus, enum_schema(ElectionStatus)]
    application_deadline: date = Field(description="The last day (Prague calendar) on which applications are accepted.")
    applications_close_at: Instant = Field(
        description="The instant applications close: the end of the deadline day in Prague, in UTC."
    )
    phase: Annotated[Phase, enum_schema(Phase)] = Field(description="The access phase now.")
    has_media_server: bool
    signature_required: bool
    rounds: list[Round]


class ElectionList(BaseModel):
    elections: list[Election]


class ApplicationVersion(BaseModel):
    number: int = Field(ge=1)
    state: StateField
    contact_email: str
    contact_phone: str = Field(description="E.164, for example +420274051111.")
    production: list[str] = Field(description="Canonical addresses.")
    test: list[str]
    accept_terms: bool
    terms_version: str | None
    note: str
    created_at: Instant
    submitted_at: NullableInstant
    content_sha256: str | None = Field(description="Quoted in the receipt.")
    decided_at: NullableInstant
    internal_reason: str = Field("", description="Staff only: why the office refused. Never present for applicants.")


class Conflict(BaseModel):
    address: str
    organisation: str
    application: str = Field(description="The other application's reference.")


class Organisation(BaseModel):
    id: int
    name: str
    ico: str


class Application(BaseModel):
    id: int
    reference: str = Field(examples=["prez2028-0007"])
    election: str = Field(description="The election's code.")
    organisation: Organisation
    created_at: Instant
    state: StateField = Field(description="The state of the latest version.")
    version: int = Field(description="The latest version's number.")
    in_force_version: int | None = Field(description="The approved version whose addresses are on the allowlist.")
    versions: list[ApplicationVersion] = Field(description="Oldest first.")
    conflicts: list[Conflict] = Field(
        [],
        description="Staff only (single application and decisions): addresses of the latest version that "
        "another organisation claims.",
    )


class ApplicationList(BaseModel):
    applications: list[Application]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    total: int = Field(ge=0)
