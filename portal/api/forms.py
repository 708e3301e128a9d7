"""The form that creates a personal API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

LIFETIME_LABELS = {
    30: _l("30 days"),
    90: _l("90 days"),
    365: _l("1 year"),
    0: _l("No expiry (until revoked)"),
}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name of the token"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, such as “newsroom importer”."),
    )
    lifetime = SelectField(_l("Valid for"), coerce=int)

    def offer(self, lifetimes: tuple[int, ...]) -> TokenForm:
        self.lifetime.choices = [SelectChoice(days, LIFETIME_LABELS[days]) for days in lifetimes]
        if self.lifetime.data is None:
            self.lifetime.data = 90
        return self
