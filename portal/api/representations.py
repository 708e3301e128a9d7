"""What the API returns: plain JSON data. Instants are ISO 8601 UTC with ``Z``; days are ISO dates.

An applicant's view of an application never contains the office's internal reason (R8) nor
anything about other organisations; ``staff=True`` adds both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal.access.service import conflicts_for
from portal.elections.models import Election
from portal.elections.service import phase
from portal.registration.models import AddressKind, Application, ApplicationVersion


def instant(value: datetime | None) -> str | None:
    """``2099-12-18T23:00:00Z``; microseconds are kept when there are some."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def election_json(election: Election, at: datetime) -> dict[str, Any]:
    return {
        "code": election.code,
        "name": {"cs": election.name_cs, "en": election.name_en},
        "kind": election.kind.value,
        "status": election.status.value,
        "application_deadline": election.application_deadline_day.isoformat(),
        "applications_close_at": instant(election.applications_close_at),
        "phase": phase(election, at).value,
        "has_media_server": election.has_media_server,
        "signature_required": election.signature_required,
        "rounds": [
            {
                "number": r.number,
                "voting_starts_at": instant(r.voting_starts_at),
                "voting_ends_at": instant(r.voting_ends_at),
                "processing_starts_at": instant(r.processing_starts_at),
                "live_ends_at": instant(r.live_ends_at),
            }
            for r in election.rounds
        ],
    }


def version_json(version: ApplicationVersion, *, staff: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": version.number,
        "state": version.state.value,
        "contact_email": version.contact_email,
        "contact_phone": version.contact_phone,
        "production": version.addresses_of(AddressKind.PRODUCTION),
        "test": version.addresses_of(AddressKind.TEST),
        "accept_terms": bool(version.terms_version),
        "terms_version": version.terms_version or None,
        "note": version.note,
        "created_at": instant(version.created_at),
        "submitted_at": instant(version.submitted_at),
        "content_sha256": version.content_sha256,
        "decided_at": instant(version.decided_at),
    }
    if staff:
        data["internal_reason"] = version.internal_reason
    return data


def application_json(application: Application, *, staff: bool, with_conflicts: bool = False) -> dict[str, Any]:
    latest = application.latest
    in_force = application.in_force
    data: dict[str, Any] = {
        "id": application.id,
        "reference": application.reference,
        "election": application.election.code,
        "organisation": {
            "id": application.organisation.id,
            "name": application.organisation.name,
            "ico": application.organisation.ico,
        },
        "created_at": instant(application.created_at),
        "state": latest.state.value,
        "version": latest.number,
        "in_force_version": in_force.number if in_force is not None else None,
        "versions": [version_json(v, staff=staff) for v in application.versions],
    }
    if staff and with_conflicts:
        data["conflicts"] = [
            {"address": c.address, "organisation": c.organisation, "application": c.application}
            for c in conflicts_for(latest)
        ]
    return data
