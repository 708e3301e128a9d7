"""Account forms: what a person types, checked before any service sees it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, EqualTo, Length, Optional, ValidationError

from portal.accounts.ico import is_valid_ico, normalise_ico
from portal.accounts.passwords import MIN_LENGTH

LANGUAGE_CHOICES = [SelectChoice("cs", "Čeština"), SelectChoice("en", "English")]


def _valid_ico(form: FlaskForm, field: StringField) -> None:
    value = normalise_ico(field.data or "")
    if not (len(value) == 8 and value.isascii() and value.isdigit()):
        raise ValidationError(_l("An IČO has exactly 8 digits."))
    if not is_valid_ico(value):
        raise ValidationError(_l("This IČO has a wrong check digit; please check it."))


def _password_field(label: str | object) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=MIN_LENGTH, max=200, message=_l("Use %(min)d to %(max)d characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class OrganisationFields:
    """The fields of an organisation, shared by sign-up and editing."""

    organisation_name = StringField(
        _l("Name of the media organisation"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    ico = StringField(
        _l("IČO (company identification number)"),
        validators=[DataRequired(), _valid_ico],
        render_kw={"inputmode": "numeric", "maxlength": 12},
    )
    address = StringField(
        _l("Address of the newsroom"),
        validators=[DataRequired(), Length(max=500)],
        render_kw={"autocomplete": "street-address"},
    )
    website = URLField(
        _l("Website"),
        validators=[
            Optional(),
            URL(message=_l("Enter a full address such as https://example.cz.")),
            Length(max=300),
        ],
    )


class SignUpForm(OrganisationFields, FlaskForm):
    email = EmailField(
        _l("Your e-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = _password_field(_l("Password"))
    password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    language = RadioField(_l("Language of e-mails"), choices=LANGUAGE_CHOICES, default="cs")


class OrganisationForm(OrganisationFields, FlaskForm):
    pass


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from the authenticator"),
        validators=[DataRequired(), Length(max=10)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password = _password_field(_l("New password"))
    password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class ProfileForm(FlaskForm):
    language = RadioField(_l("Language"), choices=LANGUAGE_CHOICES)
