"""Admin forms for elections. Wall-clock fields are Prague time."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from portal.elections.models import ElectionKind, ElectionStatus

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9]{2,19}$")

KIND_LABELS = {
    ElectionKind.PRESIDENT: _l("President of the Republic"),
    ElectionKind.CHAMBER: _l("Chamber of Deputies"),
    ElectionKind.SENATE: _l("Senate"),
    ElectionKind.REGIONAL: _l("Regional councils"),
    ElectionKind.MUNICIPAL: _l("Municipal councils"),
    ElectionKind.EUROPEAN: _l("European Parliament"),
}
STATUS_LABELS = {
    ElectionStatus.TENTATIVE: _l("Tentative"),
    ElectionStatus.ANNOUNCED: _l("Announced"),
    ElectionStatus.CANCELLED: _l("Cancelled"),
}
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class _ElectionFields(FlaskForm):
    name_cs = StringField(_l("Name in Czech"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()])


class NewElectionForm(_ElectionFields):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Regexp(
                CODE_PATTERN,
                message=_l("3 to 20 lower-case letters and digits, starting with a letter (prez2028)."),
            ),
        ],
    )
    first_voting_day = DateField(_l("First voting day"), validators=[DataRequired()])


class RoundForm(Form):
    voting_starts_at = DateTimeLocalField(_l("Polls open"), format=LOCAL_FORMAT, validators=[DataRequired()])
    voting_ends_at = DateTimeLocalField(_l("Polls close"), format=LOCAL_FORMAT, validators=[DataRequired()])
    processing_starts_at = DateTimeLocalField(
        _l("Result processing starts"), format=LOCAL_FORMAT, validators=[DataRequired()]
    )
    live_ends_at = DateTimeLocalField(_l("Live phase ends"), format=LOCAL_FORMAT, validators=[DataRequired()])


class EditElectionForm(_ElectionFields):
    application_deadline = DateField(_l("Application deadline (last day)"), validators=[DataRequired()])
    has_media_server = BooleanField(_l("The office runs the media XML server"))
    signature_required = BooleanField(_l("Applications need a recognised electronic signature or a data box"))
    allow_seals = BooleanField(_l("Accept electronic seals of organisations as well as personal signatures"))
    four_eyes = BooleanField(
        _l("Four eyes: whoever recorded a data-box submission may not approve it (a second reviewer decides)")
    )
    rounds = FieldList(FormField(RoundForm), min_entries=1, max_entries=3)
    change_reason = TextAreaField(
        _l("Reason for the change (recorded in the audit log; required when the deadline moves)"),
        validators=[Length(max=1000)],
    )
