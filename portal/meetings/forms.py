"""Forms of the technical meeting: staff schedule it and mail the outlets; outlets name attendees."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, StringField, TextAreaField, TimeField, URLField
from wtforms.validators import DataRequired, Length

from portal.meetings.models import MAX_ATTENDEES
from portal.meetings.service import MAX_AGENDA, MAX_BODY, MAX_SUBJECT


class MeetingForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    starts = TimeField(_l("Starts (Prague time)"), validators=[DataRequired()])
    ends = TimeField(_l("Ends (Prague time)"), validators=[DataRequired()])
    place = TextAreaField(_l("Place"), validators=[Length(max=500)], render_kw={"rows": 2})
    video_link = URLField(_l("Link to the video meeting (https)"), validators=[Length(max=500)])
    agenda = TextAreaField(_l("Agenda"), validators=[Length(max=MAX_AGENDA)], render_kw={"rows": 6})


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (internal, for the audit log)"), validators=[Length(max=1000)], render_kw={"rows": 2}
    )


class ReplyForm(FlaskForm):
    attendees = FieldList(
        StringField(_l("Attendee"), validators=[Length(max=200)]), min_entries=MAX_ATTENDEES, max_entries=MAX_ATTENDEES
    )


class MailForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=MAX_SUBJECT)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=MAX_BODY)], render_kw={"rows": 10})
