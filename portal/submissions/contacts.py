"""The one normaliser of the phone numbers and e-mail addresses outlets give: E.164 numbers (Czech by
default) and normalised addresses, with the field's error code when the value is not one."""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from portal.submissions.errors import FieldErrors


def normalise_phone(raw: str) -> str | None:
    """E.164, Czech numbers by default; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, "CZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str | None:
    """The address as stored (domain in lower case, Unicode normalised); None when it is not one."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def phone_field(name: str, raw: str, required: bool, errors: FieldErrors) -> str:
    """The field's number in E.164, or "" with its error (``required``, ``invalid_phone``) in ``errors``."""
    return _field(name, raw, required, errors, normalise_phone, "invalid_phone")


def email_field(name: str, raw: str, required: bool, errors: FieldErrors) -> str:
    """The field's address normalised, or "" with its error (``required``, ``invalid_email``) in ``errors``."""
    return _field(name, raw, required, errors, normalise_email, "invalid_email")


def _field(
    name: str, raw: str, required: bool, errors: FieldErrors, normalise: Callable[[str], str | None], invalid: str
) -> str:
    if not raw.strip():
        if required:
            errors[name] = ("required", {})
        return ""
    value = normalise(raw)
    if value is None:
        errors[name] = (invalid, {})
        return ""
    return value
