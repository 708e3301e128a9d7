"""Staff pages: browse the audit log and export it as CSV."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import csvsafe
from portal.audit.forms import AuditFilterForm
from portal.audit.labels import ACTION_GROUPS, ACTION_LABELS, action_label, subject_label
from portal.audit.models import AuditEvent
from portal.audit.service import EventFilter, changes, iter_events, select_events
from portal.db import utcnow
from portal.elections.prague import at_prague, end_of_prague_day
from portal.extensions import db
from portal.templating import format_prague_datetime

bp = Blueprint("audit", __name__, template_folder="templates")

PER_PAGE = 50

#: Columns of the export, in order; times in ISO 8601 UTC.
CSV_COLUMNS = (
    "id",
    "occurred_at_utc",
    "actor_id",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "reason",
    "client_address",
    "previous_hash",
    "hash",
)
#: Czech Excel expects semicolons (the comma is the decimal separator) and a BOM to read UTF-8.
CSV_DELIMITER = ";"
BOM = "\ufeff"


#: An instant as ``jsonable`` records it: ISO 8601 with an offset.
ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = _action_choices(form.action.data or "")
    form.subject_type.choices = _subject_choices(form.subject_type.data or "")
    return form


def _action_choices(current: str) -> list[SelectChoice]:
    """Every action in words: the families first, then each action recorded or known, by its words."""
    recorded = set(db.session.scalars(select(AuditEvent.action).distinct()).all())
    codes = recorded | set(ACTION_LABELS) | ({current} if current else set())
    groups = [SelectChoice(prefix, str(label), optgroup=_("Groups")) for prefix, label in ACTION_GROUPS.items()]
    actions = sorted(
        (SelectChoice(code, action_label(code), optgroup=_("Actions")) for code in codes if code not in ACTION_GROUPS),
        key=lambda c: c.label.casefold(),
    )
    return [SelectChoice("", _("Any action")), *groups, *actions]


def _subject_choices(current: str) -> list[SelectChoice]:
    recorded = set(db.session.scalars(select(AuditEvent.subject_type).distinct()).all())
    codes = recorded | ({current} if current else set())
    choices = sorted((SelectChoice(code, subject_label(code)) for code in codes), key=lambda c: c.label.casefold())
    return [SelectChoice("", _("Any subject")), *choices]


def _event_filter(form: AuditFilterForm) -> EventFilter:
    """The form's Prague days as UTC instants: from the start of the first to the end of the last."""
    return EventFilter(
        action_prefix=(form.action.data or "").strip(),
        subject_type=(form.subject_type.data or "").strip(),
        subject_id=(form.subject_id.data or "").strip(),
        actor=(form.actor.data or "").strip(),
        since=at_prague(form.date_from.data, time(0, 0)) if form.date_from.data else None,
        until=end_of_prague_day(form.date_to.data) if form.date_to.data else None,
    )


def _filter_arguments(form: AuditFilterForm) -> dict[str, str]:
    """The filter as query arguments, to keep it in the page and export links."""
    return {name: value for name, value in request.args.items() if name in form and value}


def display_value(value: object) -> str:
    """A recorded value as staff read it: text as is, anything else as compact JSON; instants
    (recorded in UTC) in Prague time, like every other time on the page."""
    value = _in_prague_time(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _in_prague_time(value: object) -> object:
    if isinstance(value, str) and ISO_INSTANT.match(value):
        try:
            return format_prague_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _in_prague_time(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_prague_time(item) for item in value]
    return value


@bp.get("/staff/audit")
def index() -> str:
    form = _filter_form()
    page = request.args.get("page", 1, type=int)
    events = None
    if form.validate():
        events = db.paginate(select_events(_event_filter(form)), page=page, per_page=PER_PAGE, error_out=False)
    return render_template(
        "audit/index.html",
        form=form,
        events=events,
        filters=_filter_arguments(form),
        changes=changes,
        display_value=display_value,
        action_label=action_label,
        subject_label=subject_label,
    )


@bp.get("/staff/audit/export.csv")
def export_csv() -> Response:
    """The filtered log, oldest first, streamed so a long log never sits in memory."""
    form = _filter_form()
    if not form.validate():
        abort(400)
    where = _event_filter(form)
    filename = f"audit-log-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    response = Response(_csv_chunks(current_app._get_current_object(), where), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_chunks(app: Flask, where: EventFilter, rows_per_chunk: int = 200) -> Iterator[str]:
    """Runs while the server sends the body, after the view has returned: in an application
    context (and database session) of its own, which needs nothing from the request."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, delimiter=CSV_DELIMITER)
    buffer.write(BOM)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    with app.app_context():
        for number, event in enumerate(iter_events(where), start=1):
            writer.writerow(_csv_row(event))
            if number % rows_per_chunk == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_row(event: AuditEvent) -> list[str]:
    def json_cell(value: object) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    return [
        str(event.id),
        event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "" if event.actor_id is None else str(event.actor_id),
        event.actor_label,
        event.action,
        event.subject_type,
        event.subject_id,
        json_cell(event.before),
        json_cell(event.after),
        event.reason or "",
        event.client_address or "",
        event.previous_hash,
        event.hash,
    ]
