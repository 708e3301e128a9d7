"""What the API returns, built as its schemas (``portal/api/schemas/responses.py``) and dumped to JSON data.

Instants are ISO 8601 UTC with ``Z``; days are ISO dates. An applicant's view of an application never
contains the office's internal reason (R8) nor anything about other organisations; ``staff=True``
adds both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from portal.access.service import conflicts_for
from portal.api.schemas import responses
from portal.elections.models import Election
from portal.elections.service import phase
from portal.registration.models import AddressKind, Application, ApplicationVersion


def dump(model: BaseModel) -> dict[str, Any]:
    """JSON data of an answer; optional fields that were not set (staff-only ones) are left out."""
    return model.model_dump(mode="json", exclude_unset=True)


def election_model(election: Election, at: datetime) -> responses.Election:
    return responses.Election(
        code=election.code,
        name=responses.ElectionName(cs=election.name_cs, en=election.name_en),
        kind=election.kind,
        status=election.status,
        application_deadline=election.application_deadline_day,
        applications_close_at=election.applications_close_at,
        phase=phase(election, at),
        has_media_server=election.has_media_server,
        signature_required=election.signature_required,
        rounds=[
            responses.Round(
                number=r.number,
                voting_starts_at=r.voting_starts_at,
                voting_ends_at=r.voting_ends_at,
                processing_starts_at=r.processing_starts_at,
                live_ends_at=r.live_ends_at,
            )
            for r in election.rounds
        ],
    )


def election_json(election: Election, at: datetime) -> dict[str, Any]:
    return dump(election_model(election, at))


def election_list_json(elections: list[Election], at: datetime) -> dict[str, Any]:
    return dump(responses.ElectionList(elections=[election_model(e, at) for e in elections]))


def version_model(version: ApplicationVersion, *, staff: bool) -> responses.ApplicationVersion:
    staff_only = {"internal_reason": version.internal_reason} if staff else {}
    return responses.ApplicationVersion(
        number=version.number,
        state=version.state,
        contact_email=version.contact_email,
        contact_phone=version.contact_phone,
        production=version.addresses_of(AddressKind.PRODUCTION),
        test=version.addresses_of(AddressKind.TEST),
        accept_terms=bool(version.terms_version),
        terms_version=version.terms_version or None,
        note=version.note,
        created_at=version.created_at,
        submitted_at=version.submitted_at,
        content_sha256=version.content_sha256,
        decided_at=version.decided_at,
        **staff_only,
    )


def application_model(application: Application, *, staff: bool, with_conflicts: bool = False) -> responses.Application:
    latest = application.latest
    in_force = application.in_force
    staff_only = {}
    if staff and with_conflicts:
        staff_only["conflicts"] = [
            responses.Conflict(address=c.address, organisation=c.organisation, application=c.application)
            for c in conflicts_for(latest)
        ]
    return responses.Application(
        id=application.id,
        reference=application.reference,
        election=application.election.code,
        organisation=responses.Organisation(
            id=application.organisation.id, name=application.organisation.name, ico=application.organisation.ico
        ),
        created_at=application.created_at,
        state=latest.state,
        version=latest.number,
        in_force_version=in_force.number if in_force is not None else None,
        versions=[version_model(v, staff=staff) for v in application.versions],
        **staff_only,
    )


def application_json(application: Application, *, staff: bool, with_conflicts: bool = False) -> dict[str, Any]:
    return dump(application_model(application, staff=staff, with_conflicts=with_conflicts))


def application_list_json(
    applications: list[Application], *, staff: bool, page: int, per_page: int, total: int
) -> dict[str, Any]:
    return dump(
        responses.ApplicationList(
            applications=[application_model(a, staff=staff) for a in applications],
            page=page,
            per_page=per_page,
            total=total,
        )
    )
