"""The audit log's filter: a GET form, so links to a filtered view can be shared and bookmarked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # it only reads

    #: A choice list of the actions in words; its values are action codes or a family's prefix.
    action = SelectField(_l("Action"), validators=[Optional(), Length(max=100)], validate_choice=False)
    subject_type = SelectField(_l("Subject"), validators=[Optional(), Length(max=100)], validate_choice=False)
    subject_id = StringField(_l("Subject ID"), validators=[Optional(), Length(max=100)])
    actor = StringField(_l("Actor's e-mail"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("From (day, Prague time)"), validators=[Optional()])
    date_to = DateField(_l("To (day, Prague time, inclusive)"), validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The last day is before the first one."))
