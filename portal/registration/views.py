"""The outlet's pages: its applications, the form, submission, amendment, withdrawal."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portal.accounts.access import load_organisation
from portal.db import utcnow
from portal.elections.service import election_by_code, elections_open_for_applications
from portal.extensions import db
from portal.registration import service
from portal.registration.access import load_application
from portal.registration.content import TERMS_VERSION, ApplicationContent
from portal.registration.errors import ContentInvalid, RegistrationError
from portal.registration.forms import ApplicationForm, ConfirmForm
from portal.registration.messages import commit_and_report, error_message, field_error_message
from portal.registration.models import AddressKind, Application

bp = Blueprint("registration", __name__, template_folder="templates")


@bp.get("/organisations/<int:organisation_id>/applications")
@login_required
def index(organisation_id: int) -> str:
    organisation = load_organisation(organisation_id)
    now = utcnow()
    return render_template(
        "registration/index.html",
        organisation=organisation,
        applications=service.applications_of(organisation.id),
        open_elections=elections_open_for_applications(now),
        form=ConfirmForm(),
    )


@bp.post("/organisations/<int:organisation_id>/applications/new/<code>")
@login_required
def start(organisation_id: int, code: str) -> Response:
    organisation = load_organisation(organisation_id)
    election = election_by_code(code)
    if election is None or not ConfirmForm().validate_on_submit():
        abort(404 if election is None else 400)
    try:
        application = service.start_application(organisation, election, current_user, at=utcnow())
    except RegistrationError as error:
        flash(error_message(error), "error")
        return redirect(url_for("registration.index", organisation_id=organisation.id))
    db.session.commit()
    return redirect(url_for("registration.detail", organisation_id=organisation.id, application_id=application.id))


@bp.route("/organisations/<int:organisation_id>/applications/<int:application_id>", methods=["GET", "POST"])
@login_required
def detail(organisation_id: int, application_id: int) -> str | Response:
    application = load_application(organisation_id, application_id)
    version = application.latest
    editable = version.state.value == "draft"
    form = ApplicationForm(data=_form_data(application)) if request.method == "GET" else ApplicationForm()
    if editable and form.validate_on_submit():
        now = utcnow()
        content = ApplicationContent(
            contact_email=form.contact_email.data or "",
            contact_phone=form.contact_phone.data or "",
            production=[entry.data or "" for entry in form.production],
            test=[entry.data or "" for entry in form.test],
            accept_terms=bool(form.accept_terms.data),
            note=form.note.data or "",
        )
        policy = service.address_policy()
        try:
            service.save_draft(version, content, policy, at=now)
            if form.submit_application.data:
                service.submit(version, policy, user=current_user, at=now)
        except ContentInvalid as invalid:
            db.session.rollback()
            _attach_errors(form, invalid)
        except RegistrationError as error:
            db.session.rollback()
            form.form_errors.append(error_message(error))
        else:
            db.session.commit()
            flash(
                _("Your application has been submitted. We have sent you a receipt.")
                if form.submit_application.data
                else _("The draft has been saved."),
                "success",
            )
            return redirect(
                url_for("registration.detail", organisation_id=organisation_id, application_id=application.id)
            )
    return render_template(
        "registration/detail.html",
        application=application,
        version=version,
        form=form,
        editable=editable,
        confirm=ConfirmForm(),
        terms_version=TERMS_VERSION,
        now=utcnow(),
    )


@bp.post("/organisations/<int:organisation_id>/applications/<int:application_id>/amend")
@login_required
def amend(organisation_id: int, application_id: int) -> Response:
    return _act(
        organisation_id,
        application_id,
        service.amend,
        _(
            "You can now change the application. "
            "The approved version stays in force until the office decides on the change."
        ),
    )


@bp.post("/organisations/<int:organisation_id>/applications/<int:application_id>/withdraw")
@login_required
def withdraw(organisation_id: int, application_id: int) -> Response:
    return _act(organisation_id, application_id, service.withdraw, _("The application has been withdrawn."))


def _act(organisation_id: int, application_id: int, action, done: str) -> Response:  # type: ignore[no-untyped-def]
    application = load_application(organisation_id, application_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    commit_and_report(lambda: action(application, user=current_user, at=utcnow()), done)
    return redirect(url_for("registration.detail", organisation_id=organisation_id, application_id=application_id))


def _form_data(application: Application) -> dict[str, object]:
    version = application.latest
    production = version.addresses_of(AddressKind.PRODUCTION)
    test = version.addresses_of(AddressKind.TEST)
    return {
        "contact_email": version.contact_email or current_user.email,
        "contact_phone": version.contact_phone,
        "production": production + [""] * (5 - len(production)),
        "test": test + [""] * (5 - len(test)),
        "accept_terms": bool(version.terms_version),
        "note": version.note,
    }


def _attach_errors(form: ApplicationForm, invalid: ContentInvalid) -> None:
    for field_name, (code, detail) in invalid.errors.items():
        message = field_error_message(code, detail)
        field = getattr(form, field_name)
        index = detail.get("index")
        if isinstance(index, int) and field_name in ("production", "test"):
            # The list was compacted (blank rows dropped): find the row holding the refused text.
            target = next(
                (entry for entry in field if (entry.data or "").strip() == detail.get("address")), field[index]
            )
            target.errors = [*target.errors, message]
        else:
            field.errors = [*field.errors, message]
