"""The outlet's pages: its permit requests per election, the signed submission, its permits; and the
public verification page a permit's QR code leads to.

Every URL under an organisation names only the organisation and the election; what a download is
about (a language, a person) comes in the form with its CSRF token, so another outlet's person can
never be addressed by a guessable URL.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from portal.accounts.access import load_organisation
from portal.accounts.guard import may
from portal.accounts.models import Organisation
from portal.accounts.policy import Action, Kind
from portal.db import utcnow
from portal.elections.models import Election
from portal.elections.prague import prague_day_of_deadline
from portal.elections.service import election_by_code
from portal.extensions import db
from portal.filming import service, signing
from portal.filming.areas import area_value, parse_area
from portal.filming.completeness import Readiness, readiness, refuse_empty
from portal.filming.content import PersonContent, RequestContent
from portal.filming.errors import ContentInvalid, DeadlinePassed, FilmingError
from portal.filming.forms import DownloadForm, PermitRequestForm, SignedRequestForm
from portal.filming.messages import error_message, field_error_message
from portal.filming.models import MAX_PERSONS, PermitPerson, PermitRequest, PersonState
from portal.filming.permits import permit_document
from portal.filming.points import all_points
from portal.filming.request_pdf import render_request_pdf
from portal.signatures.submission import LANGUAGES
from portal.submissions.pages import allow_signed_upload, pdf_download, report_upload, uploaded_pdf
from portal.submissions.readiness import flash_not_ready
from portal.templating import format_prague_date
from portal.unit_of_work import refusals_go_to, refused

bp = Blueprint("filming", __name__, template_folder="templates")


def _election(code: str) -> Election:
    election = election_by_code(code)
    if election is None:
        abort(404)
    return election


@bp.get("/organisations/<int:organisation_id>/filming")
def index(organisation_id: int) -> str:
    organisation = load_organisation(organisation_id, Action.VIEW, Kind.PERMIT_REQUEST)
    now = utcnow()
    requests = service.requests_of(organisation)
    return render_template(
        "filming/index.html",
        organisation=organisation,
        requests=requests,
        open_elections=service.elections_open_for_requests(now),
        deadline_day=lambda election: prague_day_of_deadline(service.requests_close_at(election)),
    )


@bp.route("/organisations/<int:organisation_id>/filming/<code>", methods=["GET", "POST"])
def election_page(organisation_id: int, code: str) -> str | WerkzeugResponse:
    """The organisation's requests in one election and the form of its draft."""
    action = Action.EDIT if request.method == "POST" else Action.VIEW
    organisation = load_organisation(organisation_id, action, Kind.PERMIT_REQUEST)
    election = _election(code)
    now = utcnow()
    draft = service.draft_of(organisation, election)
    form = PermitRequestForm(data=_form_data(draft, organisation, election) if request.method == "GET" else None)
    _set_choices(form, election)
    is_open = service.accepts_requests(election, now)
    if request.method == "POST":
        if form.validate_on_submit() and is_open:
            outcome = _save(form, organisation, election)
            if outcome is not None:
                return outcome
        elif not is_open:
            flash(error_message(DeadlinePassed(service.requests_close_at(election))), "error")
    check = readiness(draft, at=now) if draft is not None else Readiness()
    return render_template(
        "filming/election.html",
        ready=draft is not None and check.ready,
        missing=_problem_items(check, election),
        organisation=organisation,
        election=election,
        draft=draft,
        requests=[r for r in service.requests_of(organisation, election) if r.state.value != "draft"],
        form=form,
        upload=SignedRequestForm(),
        download=DownloadForm(),
        is_open=is_open,
        closes_at=service.requests_close_at(election),
        deadline_day=prague_day_of_deadline(service.requests_close_at(election)),
        now=now,
        is_member=may(Kind.PERMIT_REQUEST, Action.EDIT, organisation.id),
    )


def _save(form: PermitRequestForm, organisation: Organisation, election: Election) -> WerkzeugResponse | None:
    now = utcnow()
    try:
        # A savepoint: a refused change leaves the page showing the stored draft, as before it.
        with db.session.begin_nested():
            content = _content(form)
            refuse_empty(content)
            draft = service.save_draft(organisation, election, content, user=current_user, at=now)
            if form.submit_request.data:
                service.submit(draft, user=current_user, at=now)
    except ContentInvalid as invalid:
        refused()
        _attach_errors(form, invalid)
        return None
    except FilmingError as error:
        refused()
        form.form_errors.append(error_message(error))
        return None
    flash(
        _("Your permit request has been submitted. We have sent you a receipt.")
        if form.submit_request.data
        else _("The draft has been saved."),
        "success",
    )
    return redirect(url_for("filming.election_page", organisation_id=organisation.id, code=election.code))


@bp.post("/organisations/<int:organisation_id>/filming/<code>/request.pdf")
def request_pdf(organisation_id: int, code: str) -> Response:
    """The draft as a PDF to sign, in the chosen language."""
    organisation = load_organisation(organisation_id, Action.EDIT, Kind.PERMIT_REQUEST)
    election = _election(code)
    form = DownloadForm()
    if not form.validate_on_submit() or form.lang.data not in LANGUAGES:
        abort(400)
    draft = service.draft_of(organisation, election)
    if draft is None:
        abort(404)
    check = readiness(draft, at=utcnow())
    if not check.ready:
        _flash_not_ready(_("The PDF is offered once the request is complete."), check, organisation, election)
        return redirect(_page_url(organisation, election, anchor="readiness"))  # type: ignore[return-value]
    return pdf_download(render_request_pdf(draft, language=form.lang.data), f"{draft.reference}-{form.lang.data}.pdf")


@bp.post("/organisations/<int:organisation_id>/filming/<code>/signed")
@refusals_go_to(".election_page")
def upload_signed(organisation_id: int, code: str) -> WerkzeugResponse:
    """The outlet uploads its draft's PDF signed with a recognised electronic signature."""
    allow_signed_upload()
    organisation = load_organisation(organisation_id, Action.EDIT, Kind.PERMIT_REQUEST)
    election = _election(code)
    data = uploaded_pdf(SignedRequestForm())
    if data is None:
        return redirect(_page_url(organisation, election))
    draft = service.draft_of(organisation, election)
    if draft is None:
        abort(404)
    now = utcnow()
    check = readiness(draft, at=now)
    if not check.ready:
        _flash_not_ready(_("The signed PDF was not accepted: the request is not ready."), check, organisation, election)
        return redirect(_page_url(organisation, election, anchor="readiness"))
    # A refused file is recorded, and the request commits that trace; the request stays a draft.
    outcome = signing.submit_signed_upload(draft, data, user=current_user, at=now)
    report_upload(outcome, _("Your signed permit request has been accepted and submitted. We have sent you a receipt."))
    return redirect(_page_url(organisation, election))


@bp.post("/organisations/<int:organisation_id>/filming/<code>/permit.pdf")
def permit_pdf(organisation_id: int, code: str) -> Response:
    """A permit as the office issued and signed it; only of the organisation's own persons."""
    organisation = load_organisation(organisation_id, Action.EDIT, Kind.PERMIT_REQUEST)
    election = _election(code)
    form = DownloadForm()
    if not form.validate_on_submit():
        abort(400)
    person = _own_person(organisation, election, form.person.data or "")
    stored = permit_document(person) if person.state is PersonState.APPROVED else None
    if stored is None:
        abort(404)
    return pdf_download(stored.data, f"{person.permit_number}.pdf")


def _own_person(organisation: Organisation, election: Election, raw_id: str) -> PermitPerson:
    person = db.session.get(PermitPerson, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 10 else None
    if person is None or person.request.organisation_id != organisation.id or person.request.election_id != election.id:
        abort(404)
    return person


@bp.get("/permits/verify/<token>")
def verify(token: str) -> Response:
    """Public: is the permit valid, whose is it, where and when. Nothing else (no phone, no e-mail)."""
    check = service.check_permit(token, at=utcnow())
    if check is None:
        abort(404)
    response = Response(render_template("filming/verify.html", check=check))
    response.headers["Cache-Control"] = "no-store"  # a revocation shows at once
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# Form <-> content --------------------------------------------------------------------------------------------


def _set_choices(form: PermitRequestForm, election: Election) -> None:
    form.round_number.choices = [
        SelectChoice(
            str(r.number),
            _("Round %(number)d (voting from %(day)s)", number=r.number, day=format_prague_date(r.voting_starts_at)),
        )
        for r in election.rounds
    ]
    form.set_area_choices()
    form.preferred_points.choices = [
        SelectChoice(p.code, f"{p.name} – {p.district} ({p.code})", optgroup=p.region)
        for p in all_points(active_only=True)
    ]


def _form_data(draft: PermitRequest | None, organisation: Organisation, election: Election) -> dict[str, object]:
    if draft is None:
        return {
            "round_number": str(election.rounds[0].number) if election.rounds else "1",
            "applicant_email": current_user.email if current_user.organisation_id == organisation.id else "",
            "newsroom_name": organisation.name,
            "newsroom_address": organisation.address,
            "persons": [{}] * MAX_PERSONS,
        }
    persons = [{"name": p.name, "phone": p.phone, "email": p.email} for p in draft.persons]
    return {
        "round_number": str(draft.round_number),
        "applicant_name": draft.applicant_name,
        "applicant_phone": draft.applicant_phone,
        "applicant_email": draft.applicant_email,
        "newsroom_name": draft.newsroom_name,
        "newsroom_address": draft.newsroom_address,
        "persons": persons + [{}] * (MAX_PERSONS - len(persons)),
        "kinds": list(draft.kinds),
        "scope": draft.scope,
        "preferred_area": area_value(draft.preferred_region, draft.preferred_district),
        "preferred_points": [p.code for p in draft.preferred_points],
        "preferred_times": draft.preferred_times,
    }


def _content(form: PermitRequestForm) -> RequestContent:
    raw_round = form.round_number.data or ""
    area = parse_area(form.preferred_area.data or "")
    if area is None and form.preferred_area.data:
        raise ContentInvalid({"preferred_area": ("invalid_choice", {})})
    region, district = area or ("", "")
    return RequestContent(
        round_number=int(raw_round) if raw_round.isdigit() and len(raw_round) < 3 else 0,
        applicant_name=form.applicant_name.data or "",
        applicant_phone=form.applicant_phone.data or "",
        applicant_email=form.applicant_email.data or "",
        newsroom_name=form.newsroom_name.data or "",
        newsroom_address=form.newsroom_address.data or "",
        persons=[
            PersonContent(entry.form.name.data or "", entry.form.phone.data or "", entry.form.email.data or "")
            for entry in form.persons
        ],
        scope=form.scope.data or "",
        kinds=list(form.kinds.data or []),
        preferred_region=region,
        preferred_district=district,
        preferred_points=list(form.preferred_points.data or []),
        preferred_times=form.preferred_times.data or "",
    )


def _attach_errors(form: PermitRequestForm, invalid: ContentInvalid) -> None:
    for name, (code, detail) in invalid.errors.items():
        message = field_error_message(code, detail)
        if name.startswith("persons-"):
            _prefix, index, sub = name.split("-", 2)
            field = form.persons[int(index)].form[sub]
        else:
            field = getattr(form, name)
        field.errors = [*field.errors, message]


def _problem_items(check: Readiness, election: Election) -> list[tuple[str, str, str]]:
    """(input id, label, message) for each problem of the draft, labelled as the form labels its inputs."""
    form = PermitRequestForm(formdata=None)
    items = []
    for problem in check.problems:
        if problem.anchor == "deadline":
            items.append((problem.anchor, "", error_message(DeadlinePassed(service.requests_close_at(election)))))
            continue
        items.append(
            (problem.anchor, _input_label(form, problem.anchor), field_error_message(problem.code, problem.detail))
        )
    return items


def _input_label(form: PermitRequestForm, anchor: str) -> str:
    """``Your phone``, ``Person 2: E-mail``; empty for an anchor that is no input."""
    name, _sep, rest = anchor.partition("-")
    if name not in form:
        return ""
    if name == "persons" and rest:
        row, _sep, sub = rest.partition("-")
        person = _("Person %(number)d", number=int(row) + 1)
        return f"{person}: {form.persons[int(row)].form[sub].label.text}"
    if name == "persons":
        return _("Persons: one permit each")
    return str(form[name].label.text)


def _flash_not_ready(lead: str, check: Readiness, organisation: Organisation, election: Election) -> None:
    """A refusal that names each problem and links to its input on the election's page."""
    flash_not_ready(lead, _page_url(organisation, election), _problem_items(check, election))


def _page_url(organisation: Organisation, election: Election, anchor: str | None = None) -> str:
    return url_for("filming.election_page", organisation_id=organisation.id, code=election.code, _anchor=anchor)
