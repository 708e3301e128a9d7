"""The technical meeting's pages: outlets see it and name their attendees; staff schedule, change and
cancel it, see who comes, and mail every registered outlet."""

from __future__ import annotations

import io
from datetime import datetime, time

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from portal import csvsafe, unit_of_work
from portal.accounts.access import load_organisation
from portal.accounts.guard import may
from portal.accounts.models import Role
from portal.accounts.policy import Action, Kind
from portal.db import utcnow
from portal.elections.models import Election
from portal.elections.prague import NonexistentLocalTime, prague_to_utc, to_prague
from portal.elections.service import all_elections, election_by_code
from portal.meetings import service
from portal.meetings.errors import DetailsInvalid, MeetingError
from portal.meetings.forms import CancelForm, MailForm, MeetingForm, ReplyForm
from portal.meetings.messages import error_message, field_error_message
from portal.meetings.models import MAX_ATTENDEES, MeetingState, TechnicalMeeting
from portal.registration.forms import ConfirmForm
from portal.unit_of_work import refusals_go_to

bp = Blueprint("meetings", __name__, template_folder="templates")
REVIEWERS = (Role.REVIEWER, Role.ADMIN)


def _election(code: str) -> Election:
    election = election_by_code(code)
    if election is None:
        abort(404)
    return election


# The outlet's side ----------------------------------------------------------------------------------------------


@bp.get("/organisations/<int:organisation_id>/meetings")
def index(organisation_id: int) -> str:
    organisation = load_organisation(organisation_id, Action.VIEW, Kind.MEETING)
    rows = []
    for election in all_elections():
        if service.is_registered(organisation, election):
            rows.append((election, service.current_meeting(election)))
    return render_template("meetings/index.html", organisation=organisation, rows=rows)


@bp.route("/organisations/<int:organisation_id>/meetings/<code>", methods=["GET", "POST"])
def outlet_page(organisation_id: int, code: str) -> str | WerkzeugResponse:
    if request.method == "POST":
        organisation = load_organisation(organisation_id, Action.EDIT, Kind.MEETING_REPLY)
    else:
        organisation = load_organisation(organisation_id, Action.VIEW, Kind.MEETING)
    election = _election(code)
    meeting = service.current_meeting(election)
    registered = service.is_registered(organisation, election)
    existing = service.reply_of(meeting, organisation) if meeting else None
    names = list(existing.attendees) if existing else []
    form = ReplyForm(
        data={"attendees": names + [""] * (MAX_ATTENDEES - len(names))} if request.method == "GET" else None
    )
    if request.method == "POST":
        if meeting is None:
            abort(404)
        if form.validate_on_submit():
            try:
                service.reply(
                    meeting, organisation, [e.data or "" for e in form.attendees], user=current_user, at=utcnow()
                )
            except MeetingError as error:
                _show_on_form(form, error)
            else:
                flash(_("Thank you: your reply has been saved."), "success")
                return redirect(url_for("meetings.outlet_page", organisation_id=organisation.id, code=election.code))
    return render_template(
        "meetings/outlet.html",
        organisation=organisation,
        election=election,
        meeting=meeting,
        registered=registered,
        reply=existing,
        form=form,
        now=utcnow(),
        is_member=may(Kind.MEETING_REPLY, Action.EDIT, organisation.id),
    )


# The office's side ----------------------------------------------------------------------------------------------


@bp.get("/staff/meetings")
def staff_index() -> str:
    rows = [(election, service.current_meeting(election)) for election in all_elections()]
    return render_template("meetings/staff_index.html", rows=rows)


@bp.route("/staff/elections/<code>/meeting", methods=["GET", "POST"])
def staff_page(code: str) -> str | WerkzeugResponse:
    election = _election(code)
    meeting = service.current_meeting(election)
    scheduled = meeting if meeting is not None and meeting.state is MeetingState.SCHEDULED else None
    form = MeetingForm(data=_form_data(scheduled) if request.method == "GET" else None)
    if form.validate_on_submit():
        now = utcnow()
        try:
            details = _details(form)
            if scheduled is None:
                service.schedule(election, details, staff=current_user, at=now)
                done = _("The meeting has been scheduled and the invitations sent.")
            elif service.update(scheduled, details, staff=current_user, at=now):
                done = _("The meeting has been changed and the outlets told.")
            else:
                done = _("Nothing has changed.")
        except MeetingError as error:
            _show_on_form(form, error)
        else:
            flash(done, "success")
            return redirect(url_for("meetings.staff_page", code=election.code))
    return render_template(
        "meetings/staff.html",
        election=election,
        meeting=meeting,
        form=form,
        cancel=CancelForm(),
        confirm=ConfirmForm(),
        registered=service.registered_organisations(election),
        replies={r.organisation_id: r for r in meeting.replies} if meeting else {},
    )


#: Service field -> form field.
_FORM_FIELDS = {"starts_at": "starts", "ends_at": "ends"}


def _show_on_form(form: FlaskForm, error: MeetingError) -> None:
    """Answer a refusal on the form itself: each invalid field under its input, else above the form."""
    unit_of_work.refused()
    if isinstance(error, DetailsInvalid):
        for name, (problem, detail) in error.errors.items():
            field = getattr(form, _FORM_FIELDS.get(name, name))
            field.errors = [*field.errors, field_error_message(problem, detail)]
    else:
        form.form_errors.append(error_message(error))


def _form_data(meeting: TechnicalMeeting | None) -> dict[str, object] | None:
    if meeting is None:
        return None
    start, end = to_prague(meeting.starts_at), to_prague(meeting.ends_at)
    return {
        "day": start.date(),
        "starts": start.time().replace(tzinfo=None),
        "ends": end.time().replace(tzinfo=None),
        "place": meeting.place,
        "video_link": meeting.video_link,
        "agenda": meeting.agenda,
    }


def _details(form: MeetingForm) -> service.MeetingDetails:
    try:
        starts_at = prague_to_utc(datetime.combine(form.day.data, form.starts.data or time()))
    except NonexistentLocalTime:
        raise DetailsInvalid({"starts_at": ("nonexistent", {})}) from None
    try:
        ends_at = prague_to_utc(datetime.combine(form.day.data, form.ends.data or time()))
    except NonexistentLocalTime:
        raise DetailsInvalid({"ends_at": ("nonexistent", {})}) from None
    return service.MeetingDetails(
        starts_at=starts_at,
        ends_at=ends_at,
        place=form.place.data or "",
        video_link=form.video_link.data or "",
        agenda=form.agenda.data or "",
    )


def _scheduled(election: Election) -> TechnicalMeeting:
    meeting = service.current_meeting(election)
    if meeting is None or meeting.state is not MeetingState.SCHEDULED:
        abort(404)
    return meeting


@bp.post("/staff/elections/<code>/meeting/cancel")
@refusals_go_to("meetings.staff_page")
def cancel(code: str) -> WerkzeugResponse:
    election = _election(code)
    meeting = _scheduled(election)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    service.cancel(meeting, staff=current_user, at=utcnow(), reason=(form.reason.data or "").strip())
    flash(_("The meeting has been cancelled and the outlets told."), "success")
    return redirect(url_for("meetings.staff_page", code=election.code))


@bp.post("/staff/elections/<code>/meeting/invite")
@refusals_go_to("meetings.staff_page")
def invite(code: str) -> WerkzeugResponse:
    """Send the invitation to outlets approved since it went out."""
    election = _election(code)
    meeting = _scheduled(election)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = service.invite_new(meeting, staff=current_user, at=utcnow())
    flash(_("Invitations sent to the outlets registered since: %(count)d.", count=count), "success")
    return redirect(url_for("meetings.staff_page", code=election.code))


@bp.get("/staff/elections/<code>/meeting/attendees.csv")
def attendees_csv(code: str) -> Response:
    election = _election(code)
    meeting = service.current_meeting(election)
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(["organisation", "ico", "attendee", "replied_at"])
    for reply in meeting.replies if meeting else []:
        for name in reply.attendees:
            writer.writerow([reply.organisation.name, reply.organisation.ico, name, reply.replied_at.isoformat()])
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{election.code}-meeting-attendees.csv"'
    return response


@bp.route("/staff/elections/<code>/meeting/mail", methods=["GET", "POST"])
def mail(code: str) -> str | WerkzeugResponse:
    """A message to the contacts of every registered outlet of the election."""
    election = _election(code)
    form = MailForm()
    if form.validate_on_submit():
        try:
            count = service.mail_outlets(
                election, form.subject.data or "", form.body.data or "", staff=current_user, at=utcnow()
            )
        except MeetingError as error:
            _show_on_form(form, error)
        else:
            flash(_("The message has been sent to %(count)d addresses.", count=count), "success")
            return redirect(url_for("meetings.staff_page", code=election.code))
    return render_template(
        "meetings/staff_mail.html", election=election, form=form, recipients=service.recipients(election)
    )
