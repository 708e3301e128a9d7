"""The one CSV writer of the portal: no cell comes out as a spreadsheet formula.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and some strip a
leading tab or carriage return first), so an organisation named ``=HYPERLINK(...)`` would become a
live link in a staff member's spreadsheet. Such text is written with a leading apostrophe, which
spreadsheets show as text (OWASP's "CSV injection" advice). A plain signed number such as a phone
number (``+420 777 123 456``) or ``-5`` cannot run anything and is written as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A number with an optional sign, digits and spaces only: harmless with a leading + or -.
_SIGNED_NUMBER = re.compile(r"[+-][0-9][0-9 ]*")
#: Byte-order mark written first, so spreadsheets read the file as UTF-8.
BOM = "\ufeff"


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralise(value: object) -> object:
    """``value`` as a spreadsheet shows text: a leading apostrophe before a formula's first character."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value


def restore(value: str) -> str:
    """The text :func:`neutralise` was given, for reading back a file the portal wrote."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) and neutralise(value[1:]) == value:
        return value[1:]
    return value


class SafeWriter:
    """``csv.writer`` whose every text cell goes through :func:`neutralise`."""

    def __init__(self, stream: _Writable, **options: Any) -> None:
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable, **options: Any) -> SafeWriter:
    """The portal's CSV writer (CRLF line ends unless ``lineterminator`` says otherwise)."""
    return SafeWriter(stream, **options)
