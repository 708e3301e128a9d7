"""The application form. Checks that need the rules (addresses, limits) happen in the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, FieldList, StringField, SubmitField, TelField, TextAreaField
from wtforms.validators import Length

from portal.registration.content import MAX_NOTE_LENGTH
from portal.registration.models import MAX_PRODUCTION_ADDRESSES, MAX_TEST_ADDRESSES


class ApplicationForm(FlaskForm):
    contact_email = EmailField(_l("Contact e-mail"), validators=[Length(max=254)], render_kw={"autocomplete": "email"})
    contact_phone = TelField(_l("Contact phone"), validators=[Length(max=40)], render_kw={"autocomplete": "tel"})
    production = FieldList(
        StringField(_l("Production address"), validators=[Length(max=100)]),
        min_entries=MAX_PRODUCTION_ADDRESSES,
        max_entries=MAX_PRODUCTION_ADDRESSES,
    )
    test = FieldList(
        StringField(_l("Test address"), validators=[Length(max=100)]),
        min_entries=MAX_TEST_ADDRESSES,
        max_entries=MAX_TEST_ADDRESSES,
    )
    accept_terms = BooleanField(_l("We accept the terms, including citing the Czech Statistical Office as the source."))
    note = TextAreaField(_l("Note for the office (optional)"), validators=[Length(max=MAX_NOTE_LENGTH)])
    save = SubmitField(_l("Save draft"))
    submit_application = SubmitField(_l("Submit to the office"))


class SignedUploadForm(FlaskForm):
    signed_pdf = FileField(
        _l("The signed PDF"),
        validators=[FileRequired(_l("Choose the signed PDF file.")), FileAllowed(["pdf"], _l("Upload a PDF file."))],
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only its CSRF token matters."""


class DecisionForm(FlaskForm):
    internal_reason = TextAreaField(_l("Internal reason (never shown to the outlet)"), validators=[Length(max=2000)])
    acknowledge_conflicts = BooleanField(_l("I have checked the address conflicts; approve anyway."))
