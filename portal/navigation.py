"""Redirect targets that cannot lead off the site."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next_url(candidate: str | None, default_endpoint: str = "site.home") -> str:
    """Return ``candidate`` only when it is a path on this site, else the default page."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        parts = urlsplit(candidate)
        if not parts.scheme and not parts.netloc:
            return candidate
    return url_for(default_endpoint)
