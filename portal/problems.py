"""The one base of every feature's refusals: a stable ``code`` and the data a message needs.

An error never carries translated text. The words are produced where the error is shown: each feature
registers a describer for its errors (its ``messages`` module), and the unit of work's error handlers,
the API and the command line ask :func:`describe` for them in the caller's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

from flask_babel import gettext as _


class PortalError(Exception):
    """A refusal by the rules: nothing of the attempted change is kept."""

    #: Stable, machine-readable; clients and tests match on it.
    code: str = "refused"
    #: The HTTP status the API answers with, unless its own table says otherwise.
    status: int = 409

    @property
    def data(self) -> dict[str, Any]:
        """What a message needs to explain the refusal (the error's fields, without the code)."""
        fields = asdict(self) if is_dataclass(self) else dict(vars(self))
        fields.pop("code", None)
        return fields


E = TypeVar("E", bound=PortalError)
_DESCRIBERS: dict[type[PortalError], Callable[[Any], str]] = {}


def describes(error_class: type[E]) -> Callable[[Callable[[E], str]], Callable[[E], str]]:
    """Register the function that puts ``error_class`` (and its subclasses) into words."""

    def register(describer: Callable[[E], str]) -> Callable[[E], str]:
        _DESCRIBERS[error_class] = describer
        return describer

    return register


def describe(error: PortalError) -> str:
    """The refusal in the current language, from the nearest registered describer."""
    for cls in type(error).__mro__:
        describer = _DESCRIBERS.get(cls)
        if describer is not None:
            return describer(error)
    return _("This change is not possible.")
