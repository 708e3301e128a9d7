"""Loading an application for the current caller, through the access policy."""

from __future__ import annotations

from flask import abort

from portal.accounts.access import MAX_ID
from portal.accounts.guard import require
from portal.accounts.policy import Action, Kind
from portal.extensions import db
from portal.registration.models import APPLICATION_PAGE, Application


def load_application(
    application_id: int,
    action: Action = Action.VIEW,
    *,
    organisation_id: int | None = None,
    kind: Kind = Kind.APPLICATION,
) -> Application:
    """The application, if the caller may perform ``action`` on it: 404 when they may not see it.

    ``organisation_id`` is the one named in an outlet's URL: an application of another organisation
    is not found there. ``kind`` names what of the application is acted on (a signed upload, a data-box record).
    """
    application = (
        db.session.get(Application, application_id, options=APPLICATION_PAGE) if 0 < application_id <= MAX_ID else None
    )
    if application is None or (organisation_id is not None and application.organisation_id != organisation_id):
        abort(404)
    require(kind, action, application.organisation_id, view=Kind.APPLICATION)
    return application
