"""Template helpers: Prague-time formatting in the user's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, get_locale, ngettext
from flask_babel import gettext as _

from portal.accounts.passwords import MIN_LENGTH
from portal.i18n import supported_languages
from portal.registration.terms import terms_lines

#: CLDR patterns per language; Czech writes ``23. 12. 2022 23:59``.
DATETIME_PATTERNS = {"cs": "d. M. y H:mm", "en": "d MMM y, HH:mm"}
DATE_PATTERNS = {"cs": "d. M. y", "en": "d MMM y"}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = format_prague_datetime
    app.jinja_env.filters["date"] = format_prague_date
    app.jinja_env.filters["iso_datetime"] = format_iso_instant
    app.jinja_env.globals["supported_languages"] = supported_languages
    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["time_left"] = format_time_left
    app.jinja_env.globals["error_items"] = error_items
    app.jinja_env.globals["password_min_length"] = MIN_LENGTH
    app.jinja_env.globals["terms_lines"] = terms_lines
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def format_prague_datetime(value: datetime | None) -> str:
    """An instant shown in Prague time (Flask-Babel's default time zone)."""
    if value is None:
        return ""
    return format_datetime(value, DATETIME_PATTERNS.get(str(get_locale()), DATETIME_PATTERNS["cs"]))


def format_iso_instant(value: str | None) -> str:
    """An ISO 8601 instant stored as text (in JSON, such as a signature verdict), shown in Prague time."""
    if not value:
        return ""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return format_prague_datetime(instant) if instant.tzinfo else value


def format_prague_date(value: date | None) -> str:
    if value is None:
        return ""
    return format_date(value, DATE_PATTERNS.get(str(get_locale()), DATE_PATTERNS["cs"]))


def field_attrs(field: Any, hint: str | None = None) -> dict[str, str]:
    """ARIA attributes tying a form field to its hint and its error messages."""
    described = [f"{field.id}-hint"] if hint else []
    described += [f"{field.id}-error-{index}" for index in range(1, len(field.errors) + 1)]
    attributes = {"aria-describedby": " ".join(described)} if described else {}
    if field.errors:
        attributes["aria-invalid"] = "true"
    return attributes


def format_time_left(left: timedelta) -> str:
    """``12 days and 3 hours left``, with the plural forms of the user's language."""
    hours = left.seconds // 3600
    days_text = ngettext("%(num)d day", "%(num)d days", left.days)
    hours_text = ngettext("%(num)d hour", "%(num)d hours", hours)
    if left.days == 0:
        return _("%(hours)s left", hours=hours_text)
    return _("%(days)s and %(hours)s left", days=days_text, hours=hours_text)


def error_items(form: Any) -> list[tuple[str, str, str]]:
    """(field id, label, message) for every error in ``form``, list and sub-form fields included."""
    items: list[tuple[str, str, str]] = []
    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                items += error_items(entry.form) if entry.type == "FormField" else _own_errors(entry)
            items += _own_errors(field)
        elif field.type == "FormField":
            items += error_items(field.form)
        else:
            items += _own_errors(field)
    return items


def _own_errors(field: Any) -> list[tuple[str, str, str]]:
    return [
        (field.id, str(field.label.text), str(message))
        for message in field.errors
        if not isinstance(message, list | tuple | dict)
    ]
