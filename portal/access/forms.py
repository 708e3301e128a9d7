"""Staff forms: the queue's filters and the admin's address switches."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

STATE_CHOICES = [
    SelectChoice("", _l("Any state")),
    SelectChoice("submitted", _l("Waiting for a decision")),
    SelectChoice("approved", _l("Approved")),
    SelectChoice("rejected", _l("Rejected")),
    SelectChoice("withdrawn", _l("Withdrawn")),
]


class QueueFilterForm(FlaskForm):
    election = SelectField(_l("Election"), validators=[Optional()], validate_choice=False)
    state = SelectField(_l("State"), choices=STATE_CHOICES, validators=[Optional()])
    conflicts = BooleanField(_l("Only with address conflicts"))


class AddressSettingsForm(FlaskForm):
    allow_ipv6 = BooleanField(_l("Accept IPv6 addresses"))
    map_ipv4_mapped = BooleanField(_l("Accept IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) and store them as IPv4"))
    allow_documentation = BooleanField(_l("Accept the documentation ranges (for demonstrations and tests only)"))
