"""The outlet's pages: its applications, the form, submission, amendment, withdrawal."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access.service import address_policy
from portal.accounts.access import load_organisation
from portal.accounts.guard import may
from portal.accounts.policy import Action, Kind
from portal.db import utcnow
from portal.elections.service import election_by_code, elections_open_for_applications
from portal.extensions import db
from portal.registration import service, signing
from portal.registration.access import load_application
from portal.registration.completeness import Readiness, content_problems, readiness
from portal.registration.content import TERMS_VERSION, ApplicationContent
from portal.registration.errors import ContentInvalid, RegistrationError
from portal.registration.forms import ApplicationForm, ConfirmForm, SignedUploadForm, WithdrawForm
from portal.registration.messages import error_message, problem_message
from portal.registration.models import AddressKind, Application, VersionState
from portal.registration.pdf import OFFICE_DATA_BOX, render_application_pdf
from portal.signatures.submission import LANGUAGES
from portal.submissions.pages import allow_signed_upload, pdf_download, report_upload, uploaded_pdf
from portal.submissions.readiness import flash_not_ready
from portal.templating import error_items
from portal.unit_of_work import refusals_go_to, refused

bp = Blueprint("registration", __name__, template_folder="templates")


@bp.get("/organisations/<int:organisation_id>/applications")
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
@refusals_go_to(".index")
def start(organisation_id: int, code: str) -> Response:
    organisation = load_organisation(organisation_id, Action.CREATE, Kind.APPLICATION)
    election = election_by_code(code)
    if election is None or not ConfirmForm().validate_on_submit():
        abort(404 if election is None else 400)
    application = service.start_application(organisation, election, current_user, at=utcnow())
    return redirect(url_for("registration.detail", organisation_id=organisation.id, application_id=application.id))


@bp.route("/organisations/<int:organisation_id>/applications/<int:application_id>", methods=["GET", "POST"])
def detail(organisation_id: int, application_id: int) -> str | Response:
    action = Action.EDIT if request.method == "POST" else Action.VIEW
    application = load_application(application_id, action, organisation_id=organisation_id)
    version = application.latest
    # Staff may read an outlet's draft here, never write it: they are shown it, not its form.
    editable = version.state.value == "draft" and may(Kind.APPLICATION, Action.EDIT, application.organisation_id)
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
        policy = address_policy()
        try:
            # A savepoint: a refused change leaves the page showing the stored draft, as before it.
            with db.session.begin_nested():
                service.save_draft(version, content, policy, at=now)
                if form.submit_application.data:
                    service.submit(version, policy, user=current_user, at=now)
        except ContentInvalid as invalid:
            refused()
            _attach_errors(form, invalid)
        except RegistrationError as error:
            refused()
            form.form_errors.append(error_message(error))
        else:
            flash(
                _("Your application has been submitted. We have sent you a receipt.")
                if form.submit_application.data
                else _("The draft has been saved."),
                "success",
            )
            return redirect(
                url_for("registration.detail", organisation_id=organisation_id, application_id=application.id)
            )
    now = utcnow()
    check = readiness(version, address_policy(), at=now) if editable else Readiness()
    unsaved = request.method == "POST" and bool(error_items(form) or form.form_errors)
    return render_template(
        "registration/detail.html",
        application=application,
        version=version,
        form=form,
        editable=editable,
        # Unsaved changes with errors: the PDF of the stored draft would not be what the outlet sees.
        unsaved=unsaved,
        ready=check.ready and not unsaved,
        missing=_problem_items(check, ApplicationForm(formdata=None)),
        confirm=ConfirmForm(),
        upload=SignedUploadForm(),
        office_data_box=OFFICE_DATA_BOX,
        terms_version=TERMS_VERSION,
        now=now,
    )


@bp.get("/organisations/<int:organisation_id>/applications/<int:application_id>/application.pdf")
def pdf(organisation_id: int, application_id: int) -> Response:
    """The PDF to sign: generated from the saved content, in the chosen language."""
    application = load_application(application_id, organisation_id=organisation_id)
    language = request.args.get("lang", current_user.language)
    if language not in LANGUAGES:
        abort(404)
    if application.latest.state is VersionState.DRAFT:
        check = readiness(application.latest, address_policy(), at=utcnow())
        if not check.ready:
            # Nobody should sign what the upload would refuse.
            _flash_not_ready(_("The PDF is offered once the application is complete."), check, application)
            return redirect(_detail_url(application, anchor="readiness"))
    data = render_application_pdf(application.latest, language=language)
    return pdf_download(data, f"{application.reference}-v{application.latest.number}-{language}.pdf")


@bp.post("/organisations/<int:organisation_id>/applications/<int:application_id>/signed")
@refusals_go_to(".detail")
def upload_signed(organisation_id: int, application_id: int) -> Response:
    """The outlet uploads the generated PDF signed with a recognised electronic signature."""
    allow_signed_upload()
    application = load_application(
        application_id, Action.CREATE, organisation_id=organisation_id, kind=Kind.SIGNED_UPLOAD
    )
    data = uploaded_pdf(SignedUploadForm())
    if data is None:
        return redirect(_detail_url(application))
    now = utcnow()
    check = readiness(application.latest, address_policy(), at=now)
    if not check.ready:
        _flash_not_ready(_("The signed PDF was not accepted: the application is not ready."), check, application)
        return redirect(_detail_url(application, anchor="readiness"))
    # A refused file is recorded, and the request commits that trace; the application stays a draft.
    outcome = signing.submit_signed_upload(application.latest, data, address_policy(), user=current_user, at=now)
    report_upload(outcome, _("Your signed application has been accepted and submitted. We have sent you a receipt."))
    return redirect(_detail_url(application))


@bp.post("/organisations/<int:organisation_id>/applications/<int:application_id>/amend")
@refusals_go_to(".detail")
def amend(organisation_id: int, application_id: int) -> Response:
    return _act(
        organisation_id,
        application_id,
        Action.AMEND,
        service.amend,
        _(
            "You can now change the application. "
            "The approved version stays in force until the office decides on the change."
        ),
    )


@bp.route("/organisations/<int:organisation_id>/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@refusals_go_to(".detail")
def withdraw(organisation_id: int, application_id: int) -> str | Response:
    """Withdrawing an approved application cuts access and cannot be undone: it asks first."""
    application = load_application(application_id, Action.WITHDRAW, organisation_id=organisation_id)
    in_force = application.in_force
    done = _("The application has been withdrawn.")
    if in_force is None and request.method == "POST":
        return _act(organisation_id, application_id, Action.WITHDRAW, service.withdraw, done)
    form = WithdrawForm()
    if form.validate_on_submit():
        return _act(organisation_id, application_id, Action.WITHDRAW, service.withdraw, done)
    return render_template(
        "registration/withdraw.html", application=application, in_force=in_force, form=form, now=utcnow()
    )


def _act(organisation_id: int, application_id: int, action: Action, change, done: str) -> Response:  # type: ignore[no-untyped-def]
    application = load_application(application_id, action, organisation_id=organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    change(application, user=current_user, at=utcnow())
    flash(done, "success")
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
    """Each problem next to its input: every refused address row, by the position the outlet sees."""
    for problem in content_problems(invalid):
        message = problem_message(problem)
        if problem.position is not None:
            target = getattr(form, problem.field)[problem.position]
        else:
            target = getattr(form, problem.field)
        target.errors = [*target.errors, message]


def _problem_items(check: Readiness, form: ApplicationForm) -> list[tuple[str, str, str]]:
    """(input id, label, message) for each problem, labelled as the form labels its inputs."""
    items = []
    for problem in check.problems:
        items.append(
            (problem.anchor, "" if problem.error else _input_label(form, problem.anchor), problem_message(problem))
        )
    return items


def _input_label(form: ApplicationForm, anchor: str) -> str:
    """The label of the input ``anchor`` (``contact_phone``, ``production-2``); empty for none."""
    name, _sep, row = anchor.partition("-")
    if name not in form:
        return ""
    field = form[name]
    if row.isdigit():
        field = field[int(row)]
    return str(field.label.text)


def _flash_not_ready(lead: str, check: Readiness, application: Application) -> None:
    """A refusal that names each problem and links to its input on the application's page."""
    flash_not_ready(lead, _detail_url(application), _problem_items(check, ApplicationForm(formdata=None)))


def _detail_url(application: Application, anchor: str | None = None) -> str:
    return url_for(
        "registration.detail",
        organisation_id=application.organisation_id,
        application_id=application.id,
        _anchor=anchor,
    )
