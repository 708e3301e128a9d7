"""Forms of the outlet's permit request and of the office's decisions and reference data.

Choices are checked by the service (with the user's words for each problem), not by WTForms.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.filming.areas import REGIONS, area_choices, district_choices
from portal.filming.content import MAX_SCOPE_LENGTH, MAX_TIMES_LENGTH
from portal.filming.models import MAX_PERSONS, RecordingKind
from portal.labels import LABELS

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PersonForm(Form):
    name = StringField(_l("Full name"), validators=[Length(max=200)], render_kw={"autocomplete": "off"})
    phone = TelField(_l("Phone"), validators=[Length(max=40)], render_kw={"autocomplete": "off"})
    email = EmailField(_l("E-mail"), validators=[Length(max=254)], render_kw={"autocomplete": "off"})


class PermitRequestForm(FlaskForm):
    round_number = SelectField(_l("Round"), validate_choice=False)
    applicant_name = StringField(_l("Your name"), validators=[Length(max=200)], render_kw={"autocomplete": "name"})
    applicant_phone = TelField(_l("Your phone"), validators=[Length(max=40)], render_kw={"autocomplete": "tel"})
    applicant_email = EmailField(_l("Your e-mail"), validators=[Length(max=254)], render_kw={"autocomplete": "email"})
    newsroom_name = StringField(_l("Newsroom"), validators=[Length(max=200)])
    newsroom_address = StringField(_l("Newsroom address"), validators=[Length(max=500)])
    persons = FieldList(FormField(PersonForm), min_entries=MAX_PERSONS, max_entries=MAX_PERSONS)
    kinds = CheckboxesField(
        _l("What you will record"),
        choices=[SelectChoice(kind.value, LABELS["recording_kind"][kind.value]) for kind in RecordingKind],
        validate_choice=False,
        coerce=str,
    )
    scope = TextAreaField(_l("Intended scope of the recording"), validators=[Length(max=MAX_SCOPE_LENGTH)])
    preferred_area = SelectField(_l("Preferred region or district"), validate_choice=False)
    preferred_points = SelectMultipleField(
        _l("Preferred collection points (optional, up to 5)"), validate_choice=False, coerce=str
    )
    preferred_times = TextAreaField(
        _l("Preferred times (optional)"), validators=[Length(max=MAX_TIMES_LENGTH)], render_kw={"rows": 2}
    )
    save = SubmitField(_l("Save draft"))
    submit_request = SubmitField(_l("Submit to the office"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # What a submission needs, marked in the form; a draft may be saved without most of it.
        required = [
            self.applicant_name,
            self.applicant_phone,
            self.applicant_email,
            self.newsroom_name,
            self.newsroom_address,
            self.kinds,
            self.scope,
            self.preferred_area,
        ]
        first = self.persons[0].form  # the other rows are optional; each filled one needs all three
        required += [first.name, first.phone, first.email]
        for field in required:
            field.flags.required = True

    def set_area_choices(self) -> None:
        self.preferred_area.choices = [SelectChoice("", "–"), *area_choices()]


class SignedRequestForm(FlaskForm):
    signed_pdf = FileField(
        _l("The signed PDF"),
        validators=[FileRequired(_l("Choose the signed PDF file.")), FileAllowed(["pdf"], _l("Upload a PDF file."))],
    )


class DownloadForm(FlaskForm):
    """A download that needs the form's CSRF token: the language, and the person for a permit."""

    lang = HiddenField()
    person = HiddenField()


# The office's side ------------------------------------------------------------------------------------------


class PointForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=500)])
    region = SelectField(_l("Region"), choices=[SelectChoice(r, r) for r in REGIONS], validate_choice=False)
    district = SelectField(_l("District"), choices=district_choices(), validate_choice=False)
    capacity = StringField(_l("Media persons at a time"), validators=[DataRequired(), Length(max=10)])
    active = BooleanField(_l("Takes new permits"), default=True)


class PointsImportForm(FlaskForm):
    points_csv = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Upload a CSV file."))],
    )


class DeadlineForm(FlaskForm):
    deadline = DateField(_l("Last day for permit requests"), validators=[DataRequired()])


class ApproveForm(FlaskForm):
    """One per person on the page, told apart by the prefix ``p<person id>``."""

    point = SelectField(_l("Collection point"), validate_choice=False)
    starts_at = DateTimeLocalField(_l("From (Prague time)"), format=LOCAL_FORMAT, validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Until (Prague time)"), format=LOCAL_FORMAT, validators=[DataRequired()])
    allow_overbooking = BooleanField(_l("The point is full at that time: approve over its capacity anyway."))


class RejectForm(FlaskForm):
    internal_reason = TextAreaField(
        _l("Internal reason (never shown to the outlet)"), validators=[Length(max=2000)], render_kw={"rows": 2}
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Why (internal)"), validators=[Length(max=2000)], render_kw={"rows": 2})
