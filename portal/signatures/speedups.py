"""A faster drop-in for pyHanko's hex-string reader.

pyHanko reads a PDF hex string one byte at a time in Python; a signature's ``/Contents`` is such a
string of 10-60 kB, which makes reading it the largest single cost of validating a small signed PDF
(about 1 ms per kB). :func:`read_hex_string_from_stream` does the same in a few bulk operations,
with the same results and the same errors, and falls back to pyHanko's own reader for the odd case
of a comment inside a hex string. :func:`install` swaps it in (idempotent; the validation worker
calls it at start).
"""

from __future__ import annotations

import binascii
from typing import Any

__all__ = ["install", "read_hex_string_from_stream"]

_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CHUNK = 64 * 1024


class _Replaced:
    """What :func:`install` replaced: pyHanko's own reader (for the odd case of a comment inside a hex string)."""

    reader: Any = None


def read_hex_string_from_stream(stream: Any) -> Any:
    """Read ``<...>`` at the stream's position into a PDF string object (as pyHanko does)."""
    from pyhanko.pdf_utils.generic import pdf_string
    from pyhanko.pdf_utils.misc import PdfStreamError

    start = stream.tell()
    stream.read(1)  # the "<"
    pieces = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            raise PdfStreamError("Stream ended prematurely")
        end = chunk.find(b">")
        if end < 0:
            pieces.append(chunk)
            continue
        pieces.append(chunk[:end])
        # Leave the stream just after the ">".
        stream.seek(end + 1 - len(chunk), 1)
        break
    body = b"".join(pieces)
    if b"%" in body:
        # A comment inside a hex string: rare enough to leave to pyHanko's byte-by-byte reader.
        stream.seek(start)
        return _original(stream)
    digits = body.translate(None, _WHITESPACE)
    invalid = digits.translate(None, _HEX_DIGITS)
    if invalid:
        raise PdfStreamError("Unexpected token in hex string: " + repr(invalid[:1]))
    if len(digits) % 2:
        digits += b"0"
    return pdf_string(binascii.unhexlify(digits))


def _original(stream: Any) -> Any:
    """pyHanko's own byte-by-byte reader (the one :func:`install` replaced)."""
    return _Replaced.reader(stream)


def install() -> None:
    """Make pyHanko's object reader use :func:`read_hex_string_from_stream`."""
    from pyhanko.pdf_utils import generic

    if generic.read_hex_string_from_stream is read_hex_string_from_stream:
        return
    _Replaced.reader = generic.read_hex_string_from_stream
    generic.read_hex_string_from_stream = read_hex_string_from_stream
