"""Loading an application for the current user: its own organisation's, or any for verified staff."""

from __future__ import annotations

from flask import abort

from portal.accounts.access import load_organisation
from portal.extensions import db
from portal.registration.models import APPLICATION_PAGE, Application


def load_application(organisation_id: int, application_id: int) -> Application:
    organisation = load_organisation(organisation_id)
    application = db.session.get(Application, application_id, options=APPLICATION_PAGE)
    if application is None or application.organisation_id != organisation.id:
        abort(404)
    return application
