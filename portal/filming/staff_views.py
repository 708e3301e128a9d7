"""The office's pages: collection points (admins edit, import and export them), the permit requests of
an election with the load of each point, the decision per person, revocation, and the door lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from portal import unit_of_work
from portal.accounts.models import Role
from portal.db import utcnow
from portal.elections.models import Election
from portal.elections.prague import NonexistentLocalTime, prague_to_utc, to_prague
from portal.elections.service import all_elections, election_by_code
from portal.extensions import db
from portal.filming import ranking, service
from portal.filming.errors import FilmingError, PointInvalid, PointsCsvInvalid
from portal.filming.forms import ApproveForm, DeadlineForm, PointForm, PointsImportForm, RejectForm, RevokeForm
from portal.filming.messages import csv_problem_message, error_message, field_error_message
from portal.filming.models import CollectionPoint, PermitPerson, PermitRequest, PersonState, parse_request_reference
from portal.filming.permits import permit_document
from portal.filming.points import add_point, all_points, clean_point, point_by_code, save_point
from portal.filming.points_csv import export_points_csv, import_points, parse_points_csv
from portal.filming.roster import roster_csv, roster_pdf, rosters
from portal.registration.models import Document

bp = Blueprint("filming_staff", __name__, template_folder="templates")
REVIEWERS = (Role.REVIEWER, Role.ADMIN)
_SECOND = timedelta(seconds=1)
#: The window an approval form proposes: from the start of result processing, this long.
_FOUR_HOURS = timedelta(hours=4)


def _election(code: str) -> Election:
    election = election_by_code(code)
    if election is None:
        abort(404)
    return election


def _request(reference: str) -> PermitRequest:
    parsed = parse_request_reference(reference)
    found = db.session.get(PermitRequest, parsed[1]) if parsed else None
    if found is None or parsed is None or found.election.code != parsed[0] or found.state.value == "draft":
        abort(404)
    return found


def _person(permit_request: PermitRequest, raw_id: str | None) -> PermitPerson:
    raw_id = raw_id or ""
    person = db.session.get(PermitPerson, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
    if person is None or person.request_id != permit_request.id:
        abort(404)
    return person


@bp.get("/staff/filming")
def index() -> str:
    elections = all_elections()
    pending = {e.id: sum(len(r.pending_persons) for r in service.submitted_requests(e)) for e in elections}
    return render_template(
        "filming/staff_index.html",
        elections=elections,
        pending=pending,
        closes_at=service.requests_close_at,
        points=len(all_points()),
    )


# Collection points -------------------------------------------------------------------------------------------


@bp.get("/staff/filming/points")
def points() -> str:
    return render_template("filming/staff_points.html", points=all_points(), upload=PointsImportForm())


@bp.get("/staff/filming/points.csv")
def points_csv() -> Response:
    response = Response(export_points_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="collection-points.csv"'
    return response


@bp.post("/staff/filming/points/import")
@unit_of_work.refusals_go_to(".points")
def import_points_view() -> str | WerkzeugResponse:
    form = PointsImportForm()
    if not form.validate_on_submit():
        for message in form.points_csv.errors:
            flash(str(message), "error")
        return redirect(url_for("filming_staff.points"))
    try:
        report = import_points(parse_points_csv(form.points_csv.data.read()), staff=current_user, at=utcnow())
    except PointsCsvInvalid as invalid:
        unit_of_work.refused()
        return render_template(
            "filming/staff_points.html",
            points=all_points(),
            upload=form,
            problems=[csv_problem_message(problem) for problem in invalid.problems],
        )
    flash(
        _(
            "Imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged.",
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "success",
    )
    return redirect(url_for("filming_staff.points"))


@bp.route("/staff/filming/points/new", methods=["GET", "POST"])
def new_point() -> str | WerkzeugResponse:
    return _edit_point(None)


@bp.route("/staff/filming/points/<code>/edit", methods=["GET", "POST"])
def edit_point(code: str) -> str | WerkzeugResponse:
    point = point_by_code(code)
    if point is None:
        abort(404)
    return _edit_point(point)


def _edit_point(point: CollectionPoint | None) -> str | WerkzeugResponse:
    initial = {"active": True, "capacity": "2"}
    if point is not None:
        initial = {name: getattr(point, name) for name in ("code", "name", "address", "region", "district", "active")}
        initial["capacity"] = str(point.capacity)
    form = PointForm(data=initial if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            data = clean_point(
                code=form.code.data or "",
                name=form.name.data or "",
                address=form.address.data or "",
                region=form.region.data or "",
                district=form.district.data or "",
                capacity=form.capacity.data,
                active=bool(form.active.data),
            )
            if point is None:
                saved = add_point(data, staff=current_user, at=utcnow())
            else:
                saved, _changed = save_point(data, point=point, staff=current_user, at=utcnow())
        except PointInvalid as invalid:
            unit_of_work.refused()
            for name, (problem, detail) in invalid.errors.items():
                field = getattr(form, name)
                field.errors = [*field.errors, field_error_message(problem, detail)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("filming_staff.points", _anchor=f"point-{saved.code}"))
    return render_template("filming/staff_point_edit.html", form=form, point=point)


# An election's requests ----------------------------------------------------------------------------------------


def _round_argument(election: Election) -> int | None:
    raw = request.args.get("round", "")
    numbers = [r.number for r in election.rounds]
    if raw == "":
        return None
    if not raw.isdigit() or int(raw) not in numbers:
        abort(404)
    return int(raw)


@bp.get("/staff/elections/<code>/filming")
def election_page(code: str) -> str:
    election = _election(code)
    round_number = _round_argument(election)
    closes_at = service.requests_close_at(election)
    deadline = DeadlineForm(data={"deadline": to_prague(closes_at - _SECOND).date()})
    return render_template(
        "filming/staff_election.html",
        election=election,
        round_number=round_number,
        requests=service.submitted_requests(election, round_number),
        loads=service.point_loads(election, round_number),
        closes_at=closes_at,
        deadline=deadline,
        now=utcnow(),
    )


@bp.post("/staff/elections/<code>/filming/deadline")
@unit_of_work.refusals_go_to(".election_page")
def set_deadline(code: str) -> WerkzeugResponse:
    election = _election(code)
    form = DeadlineForm()
    if not form.validate_on_submit():
        for message in form.deadline.errors:
            flash(str(message), "error")
    else:
        service.set_deadline(election, form.deadline.data, staff=current_user, at=utcnow())
        flash(_("The deadline for permit requests has been set."), "success")
    return redirect(url_for("filming_staff.election_page", code=election.code))


@bp.get("/staff/elections/<code>/filming/roster.pdf")
def roster_pdf_view(code: str) -> Response:
    """The door list as PDF: ``?round=N`` (default the first), ``&point=CODE`` for one point (default all)."""
    return _roster(code, "pdf")


@bp.get("/staff/elections/<code>/filming/roster.csv")
def roster_csv_view(code: str) -> Response:
    """The door list as CSV, with the same arguments."""
    return _roster(code, "csv")


def _roster(code: str, kind: str) -> Response:
    election = _election(code)
    round_number = _round_argument(election) or (election.rounds[0].number if election.rounds else 1)
    point_code = request.args.get("point", "").strip().upper() or None
    entries = rosters(election, round_number, point_code)
    name = f"{election.code}-round{round_number}-{point_code or 'all'}"
    if kind == "csv":
        response = Response(roster_csv(entries), mimetype="text/csv")
    else:
        pdf = roster_pdf(election, round_number, entries, at=utcnow(), language=str(get_locale()))
        response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


# One request ------------------------------------------------------------------------------------------------------


@bp.get("/staff/filming/requests/<code>")
def request_page(code: str) -> tuple[str, int]:
    """``code`` is the request's reference, ``prez2028-P0007``."""
    return _render_request(_request(code))


def _render_request(
    permit_request: PermitRequest, bound: dict[int, ApproveForm] | None = None, status: int = 200
) -> tuple[str, int]:
    round_ = service.round_of(permit_request)
    default_start = round_.processing_starts_at if round_ else utcnow()
    candidates = ranking.candidate_points(permit_request)
    forms: dict[int, dict[str, FlaskForm]] = {}
    for person in permit_request.persons:
        prefix = _prefix(person)
        approve = (bound or {}).get(person.id) or ApproveForm(
            formdata=None,
            prefix=prefix,
            data={
                "point": permit_request.preferred_points[0].code if permit_request.preferred_points else "",
                "starts_at": _local(default_start),
                "ends_at": _local(default_start + _FOUR_HOURS),
            },
        )
        approve.point.choices = [
            SelectChoice(p.code, f"{p.name} – {p.district} ({p.code}), {p.capacity}×") for p in candidates
        ]
        forms[person.id] = {
            "approve": approve,
            "reject": RejectForm(formdata=None, prefix=prefix),
            "revoke": RevokeForm(formdata=None, prefix=prefix),
        }
    return render_template(
        "filming/staff_request.html",
        permit_request=permit_request,
        forms_of=forms,
        loads=ranking.nearby_loads(permit_request, candidates),
        now=utcnow(),
    ), status


def _prefix(person: PermitPerson) -> str:
    """Each person's decision forms on the request page, told apart (ids, field names) by a prefix."""
    return f"p{person.id}"


@bp.post("/staff/filming/requests/<code>/approve")
def approve(code: str) -> tuple[str, int] | WerkzeugResponse:
    permit_request = _request(code)
    person = _person(permit_request, request.form.get("person"))
    form = ApproveForm(prefix=_prefix(person))
    form.point.choices = [SelectChoice(p.code, p.code) for p in all_points(active_only=True)]
    if not form.validate_on_submit():
        return _render_request(permit_request, {person.id: form}, 400)
    point = point_by_code(form.point.data or "")
    try:
        if point is None:
            raise PointInvalid({"point": ("unknown_point", {"code": form.point.data or ""})})
        service.approve_person(
            person,
            point=point,
            starts_at=_instant(form.starts_at.data),
            ends_at=_instant(form.ends_at.data),
            staff=current_user,
            at=utcnow(),
            allow_overbooking=bool(form.allow_overbooking.data),
        )
    except (FilmingError, NonexistentLocalTime) as error:
        unit_of_work.refused()
        form.form_errors.append(
            _nonexistent(error) if isinstance(error, NonexistentLocalTime) else error_message(error)
        )
        return _render_request(permit_request, {person.id: form}, 400)
    flash(_("The permit for %(name)s has been issued and sent.", name=person.name), "success")
    return redirect(url_for("filming_staff.request_page", code=code))


@bp.post("/staff/filming/requests/<code>/reject")
@unit_of_work.refusals_go_to(".request_page")
def reject(code: str) -> WerkzeugResponse:
    permit_request = _request(code)
    person = _person(permit_request, request.form.get("person"))
    form = RejectForm(prefix=_prefix(person))
    if not form.validate_on_submit():
        abort(400)
    service.reject_person(person, staff=current_user, at=utcnow(), internal_reason=form.internal_reason.data or "")
    flash(_("%(name)s has not been approved.", name=person.name), "success")
    return redirect(url_for("filming_staff.request_page", code=code))


@bp.post("/staff/filming/requests/<code>/revoke")
@unit_of_work.refusals_go_to(".request_page")
def revoke(code: str) -> WerkzeugResponse:
    permit_request = _request(code)
    person = _person(permit_request, request.form.get("person"))
    form = RevokeForm(prefix=_prefix(person))
    if not form.validate_on_submit():
        abort(400)
    service.revoke_permit(person, staff=current_user, at=utcnow(), reason=form.reason.data or "")
    flash(_("The permit of %(name)s has been revoked.", name=person.name), "success")
    return redirect(url_for("filming_staff.request_page", code=code))


@bp.get("/staff/filming/requests/<code>/document")
def document(code: str) -> Response:
    """The signed PDF the outlet uploaded."""
    permit_request = _request(code)
    stored = db.session.get(Document, permit_request.document_sha256) if permit_request.document_sha256 else None
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{permit_request.reference}-signed.pdf"'
    return response


@bp.get("/staff/filming/requests/<code>/permit.pdf")
def permit_pdf(code: str) -> Response:
    """A permit as issued (``?person=ID``), revoked ones included."""
    person = _person(_request(code), request.args.get("person"))
    stored = permit_document(person) if person.state in (PersonState.APPROVED, PersonState.REVOKED) else None
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{person.permit_number}.pdf"'
    return response


# Prague wall-clock time in the forms -------------------------------------------------------------------------------


def _local(instant: datetime) -> datetime:
    return to_prague(instant).replace(tzinfo=None)


def _instant(local: datetime | None) -> datetime:
    assert local is not None  # DataRequired
    return prague_to_utc(local)


def _nonexistent(error: NonexistentLocalTime) -> str:
    return _("%(time)s does not exist in Prague: the clocks skip that hour.", time=str(error))
