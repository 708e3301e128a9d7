"""The application form. Checks that need the rules (addresses, limits) happen in the service."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, FieldList, IntegerField, StringField, SubmitField, TelField, TextAreaField
from wtforms.fields import Label
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Each address row gets its own label ("Production address 3"), so a screen reader and the
        # error summary can tell the ten inputs apart.
        for position, entry in enumerate(self.production, start=1):
            entry.label = Label(entry.id, _("Production address %(number)d", number=position))
        for position, entry in enumerate(self.test, start=1):
            entry.label = Label(entry.id, _("Test address %(number)d", number=position))
        # What a submission needs: marked in the form; a draft may still be saved without it.
        for field in (self.contact_email, self.contact_phone, self.production[0], self.accept_terms):
            field.flags.required = True
        # The checkbox's label carries the mark itself (the other inputs get it from the form macro).
        self.accept_terms.label = Label(self.accept_terms.id, f"{self.accept_terms.label.text} *")


class SignedUploadForm(FlaskForm):
    signed_pdf = FileField(
        _l("The signed PDF"),
        validators=[FileRequired(_l("Choose the signed PDF file.")), FileAllowed(["pdf"], _l("Upload a PDF file."))],
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only its CSRF token matters."""


class WithdrawForm(FlaskForm):
    """The outlet's confirmation that it gives up the access in force."""

    confirm = BooleanField(
        _l("I understand that our addresses lose access and that coming back needs a new signed application."),
        validators=[InputRequired(_l("Tick the box to confirm the withdrawal."))],
    )


class DecisionForm(FlaskForm):
    internal_reason = TextAreaField(_l("Internal reason (never shown to the outlet)"), validators=[Length(max=2000)])
    acknowledge_conflicts = BooleanField(_l("I have checked the address conflicts; approve anyway."))


class RevokeForm(FlaskForm):
    """Taking back an approval: the version staff saw in force, so a newer approval is not revoked unseen."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(_l("Reload the page and try again."))])
    internal_reason = TextAreaField(_l("Internal reason (never shown to the outlet)"), validators=[Length(max=2000)])
    confirm = BooleanField(
        _l("I understand that the outlet loses access at the firewall's next poll."),
        validators=[InputRequired(_l("Tick the box to confirm the revocation."))],
    )
