"""Staff forms: the queue's filters and the admin's address switches."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DateTimeLocalField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, Regexp

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


class DataboxForm(FlaskForm):
    """A submission that arrived in the office's data box: the .zfo message, or its details by hand."""

    zfo = FileField(_l("The data message (.zfo)"), validators=[FileAllowed(["zfo"], _l("Upload a .zfo file."))])
    message_id = StringField(
        _l("Message ID"), validators=[Optional(), Regexp(r"^\d{1,20}$", message=_l("Digits only."))]
    )
    sender_box_id = StringField(
        _l("Sender's data box ID"),
        validators=[Optional(), Regexp(r"^[a-z0-9]{7}$", message=_l("Seven lower-case letters and digits."))],
    )
    delivered_at = DateTimeLocalField(_l("Delivered (Prague time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    attachment = FileField(_l("The attached PDF"), validators=[FileAllowed(["pdf"], _l("Upload a PDF file."))])
    #: The inspected .zfo, base64, sent back when staff confirm the record (read and verified again).
    zfo_data = HiddenField()
