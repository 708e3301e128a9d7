"""Translated names of the states and kinds users see; one lookup per use, in the user's language."""

from __future__ import annotations

import enum

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, object]] = {
    "version_state": {
        "draft": _l("Draft"),
        "submitted": _l("Submitted, waiting for the decision"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
        "withdrawn": _l("Withdrawn"),
        "superseded": _l("Replaced by a newer version"),
    },
    "phase": {
        "registration": _l("Applications open"),
        "testing": _l("Testing"),
        "live": _l("Result processing (live)"),
        "closed": _l("Closed"),
    },
    "firewall_status": {
        "applied": _l("Applied"),
        "unchanged": _l("In order"),
        "refused": _l("Refused a snapshot"),
        "failed": _l("Failed"),
        "unreachable": _l("Could not reach the portal"),
    },
    "address_kind": {"production": _l("Production"), "test": _l("Test")},
    "election_status": {"tentative": _l("Tentative"), "announced": _l("Announced"), "cancelled": _l("Cancelled")},
    "permit_request_state": {"draft": _l("Draft"), "submitted": _l("Submitted")},
    "permit_person_state": {
        "requested": _l("Waiting for the decision"),
        "approved": _l("Permit issued"),
        "rejected": _l("Not approved"),
        "revoked": _l("Permit revoked"),
    },
    "recording_kind": {"video": _l("Video"), "audio": _l("Audio"), "photo": _l("Photo")},
    "permit_check": {
        "valid": _l("Valid"),
        "revoked": _l("Revoked"),
        "expired": _l("No longer valid: the time has passed"),
    },
    "meeting_state": {"scheduled": _l("Scheduled"), "cancelled": _l("Cancelled")},
    "grantee": {
        "public": _l("Anyone"),
        "signed_in": _l("Anyone signed in"),
        "member": _l("Member of the organisation"),
        "reviewer": _l("Reviewer"),
        "admin": _l("Administrator"),
        "ops": _l("Operations"),
    },
}


def label(group: str, value: enum.Enum | str) -> str:
    """``label("phase", Phase.LIVE)`` -> "Result processing (live)" in the user's language."""
    key = value.value if isinstance(value, enum.Enum) else value
    return str(LABELS[group][key])


def init_app(app: Flask) -> None:
    app.jinja_env.globals["label"] = label
