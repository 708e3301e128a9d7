"""Review: the queue, an application's detail, decisions, bulk approval, the export, address settings."""

from __future__ import annotations

import base64
import binascii

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from portal import unit_of_work
from portal.access import service
from portal.access.forms import AddressSettingsForm, DataboxForm, QueueFilterForm
from portal.access.queries import approved_outlets_csv, review_queue
from portal.accounts.models import Role
from portal.accounts.policy import Action, Kind
from portal.db import utcnow
from portal.elections.prague import NonexistentLocalTime, prague_to_utc
from portal.elections.service import all_elections, election_by_code
from portal.extensions import db
from portal.problems import describe
from portal.registration import signing
from portal.registration.access import load_application
from portal.registration.errors import RegistrationError
from portal.registration.forms import ConfirmForm, DecisionForm, RevokeForm
from portal.registration.messages import databox_error_message
from portal.registration.models import Application, Document, VersionState
from portal.signatures.databox import DataboxAttachment, DataboxError, DataboxMessage, parse_zfo
from portal.unit_of_work import refusals_go_to

bp = Blueprint("access", __name__, template_folder="templates")
REVIEWERS = (Role.REVIEWER, Role.ADMIN)


@bp.get("/staff/applications")
def queue() -> str:
    # What waits for a decision, unless another state (or "any") is asked for.
    form = QueueFilterForm(request.args, meta={"csrf": False}, state=VersionState.SUBMITTED.value)
    form.election.choices = [SelectChoice("", _("All elections"))] + [
        SelectChoice(e.code, e.display_name) for e in all_elections()
    ]
    form.validate()
    election = election_by_code(form.election.data) if form.election.data else None
    state = VersionState(form.state.data) if form.state.data and not form.state.errors else None
    queue_page = review_queue(
        election_id=election.id if election else None,
        state=state,
        conflicts_only=bool(form.conflicts.data),
        page=request.args.get("page", 1, type=int) or 1,
    )
    return render_template(
        "access/queue.html", queue=queue_page, rows=queue_page.rows, form=form, election=election, bulk=ConfirmForm()
    )


@bp.get("/staff/applications/<int:application_id>")
def detail(application_id: int) -> str:
    application = load_application(application_id, Action.REVIEW)
    version = application.latest
    return render_template(
        "access/detail.html",
        application=application,
        version=version,
        conflicts=service.conflicts_for(version),
        decision=DecisionForm(),
        revocation=RevokeForm(prefix="revoke"),
    )


@bp.post("/staff/applications/<int:application_id>/approve")
@refusals_go_to(".detail")
def approve(application_id: int) -> WerkzeugResponse:
    application, form = _decision(application_id, Action.APPROVE)
    service.approve(
        application.latest,
        staff=current_user,
        at=utcnow(),
        acknowledge_conflicts=bool(form.acknowledge_conflicts.data),
        expected_version=_version_seen(),
    )
    flash(_("The application has been approved."), "success")
    return redirect(url_for(".detail", application_id=application.id))


@bp.post("/staff/applications/<int:application_id>/reject")
@refusals_go_to(".detail")
def reject(application_id: int) -> WerkzeugResponse:
    application, form = _decision(application_id, Action.REJECT)
    service.reject(
        application.latest,
        staff=current_user,
        at=utcnow(),
        internal_reason=form.internal_reason.data or "",
        expected_version=_version_seen(),
    )
    flash(_("The application has been rejected."), "success")
    return redirect(url_for(".detail", application_id=application.id))


@bp.post("/staff/applications/<int:application_id>/revoke")
@refusals_go_to(".detail")
def revoke(application_id: int) -> WerkzeugResponse:
    """Take back the approval in force: its addresses leave the allowlist at the firewall's next poll."""
    application = load_application(application_id, Action.REVOKE)
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for(".detail", application_id=application.id))
    service.revoke(
        application,
        staff=current_user,
        at=utcnow(),
        internal_reason=form.internal_reason.data or "",
        expected_version=form.version.data,
    )
    flash(_("The approval has been revoked; the addresses leave the allowlist."), "success")
    return redirect(url_for(".detail", application_id=application.id))


def _decision(application_id: int, action: Action) -> tuple[Application, DecisionForm]:
    """The application, if the caller may take ``action`` on it, and the checked decision form (else 400)."""
    application = load_application(application_id, action)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return application, form


def _version_seen() -> int | None:
    """The number of the version the page showed (the service refuses the decision if it changed since)."""
    return request.form.get("version", type=int)


@bp.post("/staff/applications/bulk-approve")
def bulk_approve() -> WerkzeugResponse:
    """Approve the ticked applications that wait and have no conflict; report the others."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    report = service.bulk_approve(request.form.getlist("application", type=int), staff=current_user, at=utcnow())
    flash(_("Approved: %(count)d.", count=len(report.approved)), "success")
    if report.refused:
        skipped = ", ".join(outcome.application.reference for outcome in report.refused)
        flash(_("Not approved (decided already, or with address conflicts): %(list)s", list=skipped), "error")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("access.queue"))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)  # type: ignore[union-attr]


@bp.get("/staff/elections/<code>/approved.csv")
def export(code: str) -> Response:
    election = election_by_code(code)
    if election is None:
        abort(404)
    response = Response(stream_with_context(approved_outlets_csv(election.id)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{election.code}-approved.csv"'
    return response


@bp.route("/staff/settings/addresses", methods=["GET", "POST"])
def address_settings() -> str | WerkzeugResponse:
    policy = service.address_policy()
    form = AddressSettingsForm(
        data={
            "allow_documentation": policy.allow_documentation,
            "allow_ipv6": policy.allow_ipv6,
            "map_ipv4_mapped": policy.map_ipv4_mapped,
        }
    )
    if request.method == "POST":
        form = AddressSettingsForm()
    if form.validate_on_submit():
        service.update_address_settings(
            allow_documentation=form.allow_documentation.data,
            allow_ipv6=form.allow_ipv6.data,
            map_ipv4_mapped=form.map_ipv4_mapped.data,
            staff=current_user,
            at=utcnow(),
        )
        flash(_("Saved."), "success")
        return redirect(url_for("access.address_settings"))
    return render_template("access/address_settings.html", form=form)


@bp.get("/staff/applications/<int:application_id>/document")
def document(application_id: int) -> Response:
    """The file the office received for the latest version: the signed PDF or the data-box attachment."""
    application = load_application(application_id, Action.VIEW, kind=Kind.SIGNED_UPLOAD)
    submission = application.latest.submission_record
    stored = db.session.get(Document, submission.document_sha256) if submission and submission.document_sha256 else None
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{application.reference}-signed.pdf"'
    return response


@bp.get("/staff/applications/<int:application_id>/signature-report.json")
def signature_report(application_id: int) -> Response:
    """The validation report of the latest version's signed file, as JSON (ETSI terms, PAdES level)."""
    from portal.signatures.verdict import validation_report

    application = load_application(application_id, Action.VIEW, kind=Kind.SIGNED_UPLOAD)
    submission = application.latest.submission_record
    if submission is None or not submission.verdict:
        abort(404)
    response = jsonify(validation_report(submission.verdict))
    response.headers["Content-Disposition"] = f'attachment; filename="{application.reference}-signature-report.json"'
    return response


@bp.route("/staff/applications/<int:application_id>/databox", methods=["GET", "POST"])
def databox(application_id: int) -> str | WerkzeugResponse:
    """Record a submission that arrived in the office's data box (R6).

    A .zfo message is first read and shown (what ``portal databox inspect`` shows); staff then record
    it with a second button, which sends the same file back and has it read and verified again.
    """
    # The confirmation carries the message base64-encoded (4/3 of its size) in a hidden field.
    request.max_content_length = current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"] * 3
    application = load_application(application_id, Action.RECORD_DATABOX, kind=Kind.DATABOX_RECORD)
    form = DataboxForm()
    if not current_app.config["PORTAL_DATABOX_IMPORT"]:
        del form.zfo  # no trusted roots: deliveries are typed in by hand only
        del form.zfo_data
    inspected: DataboxMessage | None = None
    if form.validate_on_submit():
        try:
            if "zfo_data" in form and form.zfo_data.data:
                delivery = _delivery_from_message(form, _read_zfo(_decoded(form)))
            elif "zfo" in form and form.zfo.data:
                data = form.zfo.data.read()
                message = _read_zfo(data)
                if _the_pdf(form, message) is not None:
                    inspected = message
                    form.zfo_data.data = base64.b64encode(data).decode("ascii")
                delivery = None
            elif "inspect" in request.form and "zfo" in form:
                form.zfo.errors = [*form.zfo.errors, _("Choose the .zfo file to read.")]
                delivery = None
            else:
                delivery = _delivery_by_hand(form)
        except DataboxError as error:
            form.zfo.errors = [*form.zfo.errors, databox_error_message(error)]
        else:
            if delivery is not None and _recorded(application, delivery):
                return redirect(url_for("access.detail", application_id=application.id))
    return render_template("access/databox.html", application=application, form=form, inspected=inspected)


def _recorded(application: Application, delivery: signing.DataboxDelivery) -> bool:
    """Record the delivery and say so; a refusal is said on the form, which is shown again, and undone."""
    try:
        signing.record_databox_submission(
            application.latest, delivery, service.address_policy(), staff=current_user, at=utcnow()
        )
    except RegistrationError as error:
        unit_of_work.refused()
        flash(describe(error), "error")
        return False
    flash(_("The data-box submission has been recorded."), "success")
    return True


def _decoded(form: DataboxForm) -> bytes:
    try:
        return base64.b64decode(form.zfo_data.data, validate=True)
    except (binascii.Error, ValueError):
        raise DataboxError("not_cms", "the confirmed message is not base64") from None


def _read_zfo(data: bytes) -> DataboxMessage:
    """The message read and verified as ``portal databox inspect`` does, with the portal's roots and CRLs."""
    return parse_zfo(
        data,
        trust_roots=signing.databox_roots(),
        crls=signing.trust_config().crls,
        max_bytes=current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"] * 2,
    )


def _the_pdf(form: DataboxForm, message: DataboxMessage) -> DataboxAttachment | None:
    """The message's one PDF attachment (by content, whatever its declared type), else a form error."""
    pdfs = [a for a in message.attachments if a.kind == "file" and a.data.startswith(b"%PDF-")]
    if len(pdfs) != 1:
        form.zfo.errors = [*form.zfo.errors, _("The message must carry exactly one PDF attachment.")]
        return None
    return pdfs[0]


def _delivery_from_message(form: DataboxForm, message: DataboxMessage) -> signing.DataboxDelivery | None:
    pdf = _the_pdf(form, message)
    if pdf is None:
        return None
    return signing.DataboxDelivery(
        message.message_id, message.sender_box_id, message.delivered_at, pdf.data, from_zfo=True
    )


def _delivery_by_hand(form: DataboxForm) -> signing.DataboxDelivery | None:
    """From the fields typed by hand and the attached PDF."""
    missing = [f for f in (form.message_id, form.sender_box_id, form.delivered_at, form.attachment) if not f.data]
    for field in missing:
        field.errors = [
            *field.errors,
            _("Fill this in, or upload the .zfo message instead.") if "zfo" in form else _("Fill this in."),
        ]
    if missing:
        return None
    try:
        delivered_at = prague_to_utc(form.delivered_at.data)
    except NonexistentLocalTime:
        form.delivered_at.errors = [*form.delivered_at.errors, _("This time does not exist in Prague.")]
        return None
    return signing.DataboxDelivery(
        form.message_id.data, form.sender_box_id.data, delivered_at, form.attachment.data.read()
    )
