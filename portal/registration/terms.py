"""The terms of access an outlet accepts with its application (R10), kept in one place.

The form (``_terms.html``) and the generated application PDF both render the text from here, so what
the outlet reads on the page is what it signs. The accepted version is stored on the application
version: when the text changes, add a new version below and keep the old ones, so an application
always shows the text that was accepted with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

#: The version new applications accept.
TERMS_VERSION = "2026-1"

#: The text of every version of the terms, one point per line, as lazy translatable strings.
TERMS: dict[str, Sequence[LazyString]] = {
    "2026-1": (
        _l("Access to the dedicated XML server and the downloads are free of charge."),
        _l("The Czech Statistical Office must be cited as the source of the results wherever they are published."),
        _l(
            "Access is only possible from the IP addresses listed in an approved application. "
            "Test addresses are disconnected while the results are processed."
        ),
        _l("The office may refuse an application without giving a reason."),
    ),
}


def terms_lines(version: str | None = None) -> list[str]:
    """The points of the terms of ``version`` (the current one if not given), in the active language."""
    return [str(line) for line in TERMS[version or TERMS_VERSION]]
