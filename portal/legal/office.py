"""The office's details for the footer and the legal pages: defaults in ``office.toml``, replaced per office.

``PORTAL_OFFICE_FILE`` names a TOML file of the same shape; its tables are merged key by key into the
defaults and its lists replace theirs. Texts are ``{cs = ..., en = ...}`` and are shown in the user's
language (Czech when a text lacks the user's language).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import get_locale

DEFAULTS = Path(__file__).resolve().parent / "office.toml"
LANGUAGES = frozenset({"cs", "en"})
STATUSES = ("full", "partial", "none")


class OfficeFileError(ValueError):
    """The office file cannot be used; the message names the file and the key."""


def load_office(path: str | None = None) -> dict[str, Any]:
    """The defaults, with ``path`` (a TOML file) merged over them; checked."""
    office = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    if path:
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise OfficeFileError(f"PORTAL_OFFICE_FILE={path}: {error}") from error
        office = _merge(office, override)
    status = office.get("accessibility", {}).get("status")
    if status not in STATUSES:
        raise OfficeFileError(f"accessibility.status must be one of {', '.join(STATUSES)}, not {status!r}")
    for key in ("name", "address", "email", "phone", "data_box"):
        if not office.get(key):
            raise OfficeFileError(f"the office's {key} is empty")
    return office


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict) and not _is_text(value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_text(value: Mapping[str, Any]) -> bool:
    return bool(value) and set(value) <= LANGUAGES


class Localised:
    """Attribute and item access to the office's details, texts resolved in the user's language."""

    def __init__(self, value: Mapping[str, Any]) -> None:
        self._value = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return localise(self._value.get(name))

    __getitem__ = __getattr__


def localise(value: Any) -> Any:
    if isinstance(value, Mapping):
        if _is_text(value):
            return value.get(str(get_locale())) or value.get("cs") or next(iter(value.values()))
        return Localised(value)
    if isinstance(value, list):
        return [localise(item) for item in value]
    return value


def office() -> Localised:
    """The office's details for templates (``office().name``)."""
    return Localised(current_app.extensions["portal_office"])


def as_date(value: Any) -> date | None:
    return value if isinstance(value, date) else None
