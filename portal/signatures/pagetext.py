"""Where a page shows text, roughly: boxes around each text-showing operation of its content stream.

Used to keep visible signature widgets away from the page's text (a stamp may sit in blank space, not
over the words the signer signed). The estimate is conservative and simple: the text matrix and the
CTM are followed (``cm``, ``q``/``Q``, ``BT``, ``Tf``, ``TL``, ``Td``, ``TD``, ``Tm``, ``T*``,
``Tc``, ``Tz``), each shown string is as wide as half the font size per byte plus the character
spacing, from a tenth of the font size below the baseline to three quarters above (the body of
lower-case letters and capitals, so that a stamp beside a line is not taken for one over it). Text inside form XObjects
and images are not looked into. A content stream that cannot be read yields ``None``: the caller
then treats the whole page as text.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Box", "text_boxes"]

#: (x1, y1, x2, y2) in default user space, x1 <= x2, y1 <= y2.
Box = tuple[float, float, float, float]

#: More operations than any page of ours has: a bigger stream is not analysed (whole page = text).
MAX_TOKENS = 500_000

_TOKEN = re.compile(
    rb"""
    (?P<ws>[\x00\t\n\x0c\r ]+|%[^\r\n]*)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+))
  | (?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)
  | (?P<lstring>\()
  | (?P<hstring><(?!<)[0-9A-Fa-f\x00\t\n\x0c\r ]*>)
  | (?P<dict_open><<) | (?P<dict_close>>>)
  | (?P<array_open>\[) | (?P<array_close>\])
  | (?P<op>[A-Za-z'"*]+[0-9A-Za-z*]*)
    """,
    re.VERBOSE,
)

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m x n (PDF row-vector convention: a point is transformed by m first, then by n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _literal_length(data: bytes, start: int) -> tuple[int, int]:
    """(number of bytes the literal string starting after ``(`` at ``start`` encodes, end offset)."""
    depth, length, index = 1, 0, start
    while index < len(data):
        char = data[index]
        if char == 0x5C:  # backslash
            index += 1
            if index < len(data) and data[index : index + 1].isdigit():
                digits = 1
                while digits < 3 and index + digits < len(data) and data[index + digits : index + digits + 1].isdigit():
                    digits += 1
                index += digits - 1
            length += 1
        elif char == 0x28:
            depth += 1
            length += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return length, index + 1
            length += 1
        else:
            length += 1
        index += 1
    raise ValueError("unterminated string")


def text_boxes(content: bytes) -> list[Box] | None:
    """The estimated boxes of the text ``content`` (a page's concatenated content streams) shows."""
    try:
        return _boxes(content)
    except (ValueError, IndexError, ZeroDivisionError, OverflowError):
        return None


def _boxes(content: bytes) -> list[Box] | None:
    boxes: list[Box] = []
    operands: list[Any] = []
    ctm, stack = _IDENTITY, []
    tm = tlm = _IDENTITY
    size, leading, char_spacing, scale = 0.0, 0.0, 0.0, 1.0
    array_depth = 0
    tokens = 0
    position = 0

    def show(byte_count: int, extra: float = 0.0) -> None:
        nonlocal tm
        width = (byte_count * (size * 0.5 + char_spacing) - extra) * scale
        total = _multiply(tm, ctm)
        corners = [_apply(total, x, y) for x in (0.0, width) for y in (-0.1 * size, 0.75 * size)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
        tm = _multiply((1.0, 0.0, 0.0, 1.0, width, 0.0), tm)

    while position < len(content):
        tokens += 1
        if tokens > MAX_TOKENS:
            return None
        match = _TOKEN.match(content, position)
        if match is None:
            raise ValueError(f"unreadable content at {position}")
        kind = match.lastgroup
        position = match.end()
        if kind == "ws":
            continue
        if kind == "number":
            operands.append(float(match.group()))
        elif kind == "lstring":
            length, position = _literal_length(content, position)
            operands.append(("string", length))
        elif kind == "hstring":
            digits = len(re.sub(rb"[^0-9A-Fa-f]", b"", match.group()))
            operands.append(("string", (digits + 1) // 2))
        elif kind == "array_open":
            array_depth += 1
            operands.append("[")
        elif kind == "array_close":
            array_depth -= 1
            operands.append("]")
        elif kind in ("name", "dict_open", "dict_close"):
            operands.append(match.group())
        elif kind == "op":
            op = match.group().decode("latin-1")
            if array_depth:
                continue  # keywords such as true/false/null inside arrays
            numbers = [o for o in operands if isinstance(o, float)]
            if op == "BI":
                end = content.find(b"EI", position)
                if end < 0:
                    raise ValueError("unterminated inline image")
                position = end + 2
            elif op == "q":
                stack.append(ctm)
            elif op == "Q":
                ctm = stack.pop() if stack else _IDENTITY
            elif op == "cm" and len(numbers) >= 6:
                ctm = _multiply(tuple(numbers[-6:]), ctm)  # type: ignore[arg-type]
            elif op == "BT":
                tm = tlm = _IDENTITY
            elif op == "Tf" and numbers:
                size = abs(numbers[-1])
            elif op == "TL" and numbers:
                leading = numbers[-1]
            elif op == "Tc" and numbers:
                char_spacing = numbers[-1]
            elif op == "Tz" and numbers:
                scale = numbers[-1] / 100.0
            elif op in ("Td", "TD") and len(numbers) >= 2:
                if op == "TD":
                    leading = -numbers[-1]
                tm = tlm = _multiply((1.0, 0.0, 0.0, 1.0, numbers[-2], numbers[-1]), tlm)
            elif op == "Tm" and len(numbers) >= 6:
                tm = tlm = tuple(numbers[-6:])  # type: ignore[assignment]
            elif op in ("T*", "'", '"'):
                tm = tlm = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -leading), tlm)
            if op in ("Tj", "'", '"'):
                strings = [o[1] for o in operands if isinstance(o, tuple)]
                if strings:
                    show(strings[-1])
            elif op == "TJ":
                strings = [o[1] for o in operands if isinstance(o, tuple)]
                adjust = sum(o for o in operands if isinstance(o, float)) * size / 1000.0
                show(sum(strings), adjust)
            operands = []
    return boxes


def page_text_boxes(page: Any) -> list[Box] | None:
    """The text boxes of a pyHanko page dictionary (its /Contents, one stream or an array)."""
    from pyhanko.pdf_utils import generic

    contents = page.get("/Contents") if isinstance(page, generic.DictionaryObject) else None
    if contents is None:
        return []
    if isinstance(contents, generic.IndirectObject):
        contents = contents.get_object()
    streams = list(contents) if isinstance(contents, list) else [contents]
    data = b""
    for stream in streams:
        stream = stream.get_object() if isinstance(stream, generic.IndirectObject) else stream
        if not isinstance(stream, generic.StreamObject):
            return None
        data += stream.data + b"\n"
    return text_boxes(data)
