"""A permit request's content, validated the same way for a draft and for the submission."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from portal.filming.areas import district_in_region, is_region
from portal.filming.errors import ContentInvalid
from portal.filming.models import MAX_PERSONS, MAX_PREFERRED_POINTS, PermitRequest, RecordingKind
from portal.submissions.contacts import email_field, phone_field

MAX_SCOPE_LENGTH = 2000
MAX_TIMES_LENGTH = 500
Errors = dict[str, tuple[str, dict[str, object]]]


@dataclass(frozen=True)
class PersonContent:
    name: str
    phone: str
    email: str

    @property
    def blank(self) -> bool:
        return not (self.name.strip() or self.phone.strip() or self.email.strip())


@dataclass(frozen=True)
class RequestContent:
    round_number: int
    applicant_name: str
    applicant_phone: str
    applicant_email: str
    newsroom_name: str
    newsroom_address: str
    #: As typed, blank rows included: errors name the row the outlet sees.
    persons: Sequence[PersonContent]
    scope: str
    kinds: Sequence[str]
    preferred_region: str
    preferred_district: str = ""
    #: Codes of collection points.
    preferred_points: Sequence[str] = ()
    preferred_times: str = ""


@dataclass(frozen=True)
class CleanRequest:
    round_number: int
    applicant_name: str
    applicant_phone: str  #: E.164
    applicant_email: str
    newsroom_name: str
    newsroom_address: str
    persons: list[PersonContent]  #: blank rows dropped, phones E.164, e-mails normalised
    scope: str
    kinds: list[str]
    preferred_region: str
    preferred_district: str
    preferred_points: list[str]
    preferred_times: str


def clean_request(content: RequestContent, round_numbers: Sequence[int], *, require_complete: bool) -> CleanRequest:
    """Normalise and check everything, all problems at once by field; a draft may be incomplete."""
    errors: Errors = {}
    if content.round_number not in round_numbers:
        errors["round_number"] = ("invalid_round", {})
    applicant_name = _text("applicant_name", content.applicant_name, 200, require_complete, errors)
    applicant_phone = phone_field("applicant_phone", content.applicant_phone, require_complete, errors)
    applicant_email = email_field("applicant_email", content.applicant_email, require_complete, errors)
    newsroom_name = _text("newsroom_name", content.newsroom_name, 200, require_complete, errors)
    newsroom_address = _text("newsroom_address", content.newsroom_address, 500, require_complete, errors)
    persons = _persons(content.persons, require_complete, errors)
    scope = _text("scope", content.scope, MAX_SCOPE_LENGTH, require_complete, errors)
    known = {kind.value for kind in RecordingKind}
    kinds = sorted({kind for kind in content.kinds if kind})
    if any(kind not in known for kind in kinds):
        errors["kinds"] = ("invalid_choice", {})
    elif require_complete and not kinds:
        errors["kinds"] = ("required", {})
    region, district = content.preferred_region.strip(), content.preferred_district.strip()
    if (region and not is_region(region)) or (district and not district_in_region(district, region)):
        errors["preferred_area"] = ("invalid_choice", {})
    elif require_complete and not region:
        errors["preferred_area"] = ("required", {})
    points = sorted({code.strip().upper() for code in content.preferred_points if code.strip()})
    if len(points) > MAX_PREFERRED_POINTS:
        errors["preferred_points"] = ("too_many", {"max": MAX_PREFERRED_POINTS})
    times = _text("preferred_times", content.preferred_times, MAX_TIMES_LENGTH, False, errors)
    if errors:
        raise ContentInvalid(errors)
    return CleanRequest(
        round_number=content.round_number,
        applicant_name=applicant_name,
        applicant_phone=applicant_phone,
        applicant_email=applicant_email,
        newsroom_name=newsroom_name,
        newsroom_address=newsroom_address,
        persons=persons,
        scope=scope,
        kinds=kinds,
        preferred_region=region,
        preferred_district=district if district != region else "",
        preferred_points=points,
        preferred_times=times,
    )


def _text(name: str, raw: str, limit: int, required: bool, errors: Errors) -> str:
    value = raw.strip()
    if len(value) > limit:
        errors[name] = ("too_long", {"max": limit})
    elif required and not value:
        errors[name] = ("required", {})
    return value


def _persons(rows: Sequence[PersonContent], required: bool, errors: Errors) -> list[PersonContent]:
    persons: list[PersonContent] = []
    filled = [(index, row) for index, row in enumerate(rows) if not row.blank]
    if len(filled) > MAX_PERSONS:
        errors["persons"] = ("too_many", {"max": MAX_PERSONS})
        return []
    for index, row in filled:
        prefix = f"persons-{index}-"
        # A row with anything in it needs a name; phone and e-mail are needed to submit.
        name = _text(prefix + "name", row.name, 200, True, errors)
        phone = phone_field(prefix + "phone", row.phone, required, errors)
        email = email_field(prefix + "email", row.email, required, errors)
        persons.append(PersonContent(name, phone, email))
    if required and not filled:
        errors["persons"] = ("required", {})
    return persons


def content_digest(request: PermitRequest) -> str:
    """SHA-256 of the canonical JSON of what the outlet submits: quoted in the PDF and the receipt."""
    document = {
        "request": request.reference,
        "election": request.election.code,
        "round": request.round_number,
        "organisation": {"name": request.organisation.name, "ico": request.organisation.ico},
        "applicant": [request.applicant_name, request.applicant_phone, request.applicant_email],
        "newsroom": [request.newsroom_name, request.newsroom_address],
        "persons": [[p.name, p.phone, p.email] for p in request.persons],
        "scope": request.scope,
        "kinds": list(request.kinds),
        "area": [request.preferred_region, request.preferred_district],
        "points": [point.code for point in request.preferred_points],
        "times": request.preferred_times,
    }
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
