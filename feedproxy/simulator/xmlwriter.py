"""Writing documents the way the office lays them out: one element a line, attributes in a fixed order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

#: The office stamps documents in Prague local time, without an offset.
PRAGUE = ZoneInfo("Europe/Prague")
XSI = "http://www.w3.org/2001/XMLSchema-instance"

Attributes = Iterable[tuple[str, object]]


def escape(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def attrs(pairs: Attributes) -> str:
    return " ".join(f'{name}="{escape(value)}"' for name, value in pairs)


def empty(tag: str, pairs: Attributes, space: bool = False) -> str:
    """``<TAG a="1"/>``; ``space`` gives ``<TAG a="1" />`` as some of the office's elements are written."""
    return f"<{tag} {attrs(pairs)}{' ' if space else ''}/>"


def start(tag: str, pairs: Attributes) -> str:
    return f"<{tag} {attrs(pairs)}>"


def root(tag: str, namespace: str, schema: str, stamp: Attributes, wrapped: bool) -> str:
    """The root start tag; ``wrapped`` puts the schema location and the stamp on lines of their own."""
    first = f'<{tag} xmlns="{namespace}" xmlns:xsi="{XSI}"'
    rest = [f'xsi:schemaLocation="{namespace} {schema}"', attrs(stamp)]
    if not wrapped:
        return " ".join([first, *rest]) + ">"
    indent = "\n" + " " * (len(tag) + 2)
    return first + indent + indent.join(rest) + ">"


def declaration(encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>'


def timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss`` in Prague time (the office's DATUM_CAS_* format)."""
    return moment.astimezone(PRAGUE).strftime("%Y-%m-%dT%H:%M:%S")


def document(encoding: str, lines: Iterable[str]) -> bytes:
    """The lines joined and encoded as declared; a character the encoding lacks becomes a reference."""
    text = "\n".join([declaration(encoding), *lines]) + "\n"
    return text.encode(encoding, errors="xmlcharrefreplace")
