"""Which request paths name a feed document, and the one spelling (cache key) of each.

Two layouts, one grammar, checked before any upstream request:

- ``/pls/<election>/<document>?<params>``: the office's query endpoints (until 2024), with query
  parameters from a short list; the parameters are sorted, so ``?kolo=1&davka=2`` and
  ``?davka=2&kolo=1`` are one document.
- ``/appdata/<election>[/<YYYYMMDD>]/odata/[<subfolder>/]<file>.xml``: the static files published
  since 2025 (``/appdata/ps2025/odata/vysledky.xml``,
  ``/appdata/kv2026/20261009/odata/okrsky/vysledky_okrsky_00001.xml``), subfolders from the office's
  list only, and never a query string.

The grammar is strict on purpose: no ``.`` or ``..`` segment, no percent sign at all (so no encoded dot,
slash or backslash), no empty segment, a bounded length and depth. Anything else is refused before it
can make the proxy fetch a new path.
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

#: Subfolders of ``odata/`` in the 2025+ layout: precinct and municipality batches, districts, councils,
#: regions, Senate districts (see the FEED_FACTS notes on the 2025+ layout).
APPDATA_FOLDERS = frozenset({"okrsky", "obce", "obce_d", "okresy", "okresy_d", "zastup", "kraje", "obvody"})

MAX_PATH_LENGTH = 200
MAX_QUERY_LENGTH = 256

_PLS = re.compile(r"/pls/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_]{1,64}")
_APPDATA = re.compile(
    r"/appdata/(?P<election>[a-z0-9_-]{1,32})"
    r"(?:/(?P<date>(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])))?"
    r"/odata/(?:(?P<folder>[a-z_]{1,16})/)?[A-Za-z0-9_]{1,64}\.xml"
)
_VALUE = re.compile(r"[A-Za-z0-9_.-]{0,32}")


class NotADocument(ValueError):
    """The path or query names no feed document the proxy would fetch."""


def document_key(path: str, query: str) -> str:
    """``/pls/<election>/<document>[?sorted query]`` or the ``/appdata/...`` path itself, or NotADocument."""
    if len(path) > MAX_PATH_LENGTH:
        raise NotADocument("the path is too long")
    if path[:9] == "/appdata/":
        return _appdata_key(path, query)
    if not _PLS.fullmatch(path):
        raise NotADocument(f"{path!r} is neither a /pls/ nor an /appdata/ document path")
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


def _appdata_key(path: str, query: str) -> str:
    if query:
        raise NotADocument("a static file takes no query string")
    found = _APPDATA.fullmatch(path)
    if found is None:
        raise NotADocument(f"{path!r} is not an /appdata/<election>[/<YYYYMMDD>]/odata/<file>.xml path")
    folder = found.group("folder")
    if folder is not None and folder not in APPDATA_FOLDERS:
        raise NotADocument(f"{folder!r} is not one of the office's odata folders")
    return path


def is_document_path(path: str) -> bool:
    """Cheap first test on the hot path: does the path claim one of the two layouts?"""
    return path[:5] == "/pls/" or path[:9] == "/appdata/"
