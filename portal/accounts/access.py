"""Loading an organisation for the current caller, through the access policy.

Permission is decided when the object is loaded (``portal.accounts.guard.require``), never in view bodies.
"""

from __future__ import annotations

from flask import abort

from portal.accounts.guard import require
from portal.accounts.models import Organisation
from portal.accounts.policy import Action, Kind
from portal.extensions import db

#: The largest id an integer column holds; a bigger one in a URL is simply not found.
MAX_ID = 2**31 - 1


def load_organisation(
    organisation_id: int, action: Action = Action.VIEW, kind: Kind = Kind.ORGANISATION
) -> Organisation:
    """The organisation, if the caller may perform ``action`` on ``kind`` of it; 404 if they may not see it.

    ``kind`` names what of the organisation is acted on (its applications, permit requests, meeting reply).
    """
    organisation = db.session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
    if organisation is None:
        abort(404)
    require(kind, action, organisation.id, view=Kind.ORGANISATION)
    return organisation
