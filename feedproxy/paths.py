"""Which request paths name a feed document, and the one spelling (cache key) of each.

Only ``/pls/<election>/<document>`` with query parameters from a short list reach the upstream; the
parameters are sorted, so ``?kolo=1&davka=2`` and ``?davka=2&kolo=1`` are one document. Anything else
is refused before it can make the proxy fetch a new path.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote

#: Query parameter names the office's feed uses (volby.cz ``/pls/`` endpoints).
QUERY_PARAMETERS = frozenset(
    {
        "davka",
        "kolo",
        "nuts",
        "cislo_obce",
        "datumvoleb",
        "datum_voleb",
        "obec",
        "okres",
        "kraj",
        "obvod",
        "cislo_okrsku",
        "okrsek",
        "xjazyk",
    }
)

_PATH = re.compile(r"/pls/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_]{1,64}")
_VALUE = re.compile(r"[A-Za-z0-9_.-]{0,32}")
MAX_QUERY_LENGTH = 256


class NotADocument(ValueError):
    """The path or query names no feed document the proxy would fetch."""


def document_key(path: str, query: str) -> str:
    """``/pls/<election>/<document>[?sorted query]``, or NotADocument."""
    if not _PATH.fullmatch(path):
        raise NotADocument(f"{path!r} is not a /pls/<election>/<document> path")
    if not query:
        return path
    if len(query) > MAX_QUERY_LENGTH:
        raise NotADocument("the query is too long")
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    seen: set[str] = set()
    for name, value in pairs:
        if name not in QUERY_PARAMETERS:
            raise NotADocument(f"query parameter {name!r} is not one the feed uses")
        if name in seen:
            raise NotADocument(f"query parameter {name!r} repeats")
        if not _VALUE.fullmatch(value):
            raise NotADocument(f"query parameter {name!r} has an unexpected value")
        seen.add(name)
    if not pairs:
        return path
    return path + "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in sorted(pairs))
