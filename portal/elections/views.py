"""Public election pages and the admins' editing."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import unit_of_work
from portal.db import utcnow
from portal.elections import service
from portal.elections.errors import ElectionError
from portal.elections.forms import EditElectionForm, NewElectionForm
from portal.elections.messages import error_message
from portal.elections.models import Election, ElectionKind, ElectionStatus
from portal.elections.prague import NonexistentLocalTime, prague_to_utc, to_prague
from portal.elections.service import ElectionPlan, RoundPlan

bp = Blueprint("elections", __name__, template_folder="templates")


def _load(code: str) -> Election:
    election = service.election_by_code(code)
    if election is None:
        abort(404)
    return election


@bp.get("/elections")
def index() -> str:
    now = utcnow()
    elections = service.all_elections()
    return render_template("elections/index.html", elections=elections, phase=service.phase, now=now)


@bp.get("/elections/<code>")
def detail(code: str) -> str:
    election = _load(code)
    now = utcnow()
    return render_template("elections/detail.html", election=election, phase=service.phase(election, now), now=now)


@bp.get("/staff/elections")
def admin_list() -> str:
    now = utcnow()
    return render_template("elections/admin_list.html", elections=service.all_elections(), phase=service.phase, now=now)


@bp.route("/staff/elections/new", methods=["GET", "POST"])
def admin_new() -> str | Response:
    form = NewElectionForm()
    if form.validate_on_submit():
        kind = ElectionKind(form.kind.data)
        plan = ElectionPlan(
            code=form.code.data,
            name_cs=form.name_cs.data.strip(),
            name_en=form.name_en.data.strip(),
            kind=kind,
            status=ElectionStatus(form.status.data),
            application_deadline=service.default_application_deadline(form.first_voting_day.data),
            rounds=service.default_rounds(kind, form.first_voting_day.data),
            senate_districts=service.senate_districts_for(form.first_voting_day.data.year)
            if kind is ElectionKind.SENATE
            else (),
        )
        try:
            election = service.add_election(plan, actor=current_user, at=utcnow())
        except ElectionError as error:
            unit_of_work.refused()
            _attach_error(form, error)
        else:
            flash(_("The election has been created with the default calendar; check and adjust it."), "success")
            return redirect(url_for("elections.admin_edit", code=election.code))
    return render_template("elections/admin_new.html", form=form)


@bp.route("/staff/elections/<code>/edit", methods=["GET", "POST"])
def admin_edit(code: str) -> str | Response:
    election = _load(code)
    form = EditElectionForm(data=_form_data(election))
    if form.validate_on_submit():
        try:
            plan = _plan_from_form(election, form)
            service.change_election(
                election, plan, actor=current_user, at=utcnow(), reason=form.change_reason.data or ""
            )
        except ElectionError as error:
            unit_of_work.refused()
            _attach_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("elections.admin_edit", code=election.code))
    return render_template("elections/admin_edit.html", form=form, election=election)


def _form_data(election: Election) -> dict[str, object]:
    def local(instant: datetime) -> datetime:
        return to_prague(instant).replace(tzinfo=None)

    return {
        "name_cs": election.name_cs,
        "name_en": election.name_en,
        "kind": election.kind.value,
        "status": election.status.value,
        "application_deadline": election.application_deadline_day,
        "has_media_server": election.has_media_server,
        "signature_required": election.signature_required,
        "allow_seals": election.allow_seals,
        "four_eyes": election.four_eyes,
        "rounds": [
            {
                "voting_starts_at": local(r.voting_starts_at),
                "voting_ends_at": local(r.voting_ends_at),
                "processing_starts_at": local(r.processing_starts_at),
                "live_ends_at": local(r.live_ends_at),
            }
            for r in election.rounds
        ],
    }


def _plan_from_form(election: Election, form: EditElectionForm) -> ElectionPlan:
    rounds = []
    for number, entry in enumerate(form.rounds.entries, start=1):
        instants = {}
        for name in ("voting_starts_at", "voting_ends_at", "processing_starts_at", "live_ends_at"):
            try:
                instants[name] = prague_to_utc(entry.form[name].data)
            except NonexistentLocalTime as error:
                raise ElectionError("nonexistent_local_time", field="rounds", time=str(error)) from error
        rounds.append(RoundPlan(number=number, **instants))
    return ElectionPlan(
        code=election.code,
        name_cs=form.name_cs.data.strip(),
        name_en=form.name_en.data.strip(),
        kind=ElectionKind(form.kind.data),
        status=ElectionStatus(form.status.data),
        application_deadline=form.application_deadline.data,
        rounds=rounds,
        has_media_server=form.has_media_server.data,
        signature_required=form.signature_required.data,
        allow_seals=form.allow_seals.data,
        four_eyes=form.four_eyes.data,
        senate_districts=election.senate_districts or (),
    )


def _attach_error(form: NewElectionForm | EditElectionForm, error: ElectionError) -> None:
    message = error_message(error)
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and error.field != "rounds":
        target.errors.append(message)
    else:
        form.form_errors.append(message)
