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
from dataclasses import dataclass, field
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
    state = _TextState()
    tokens = 0
    position = 0
    while position < len(content):
        tokens += 1
        if tokens > MAX_TOKENS:
            return None
        match = _TOKEN.match(content, position)
        if match is None:
            raise ValueError(f"unreadable content at {position}")
        position = state.read(content, match)
    return state.boxes


@dataclass
class _TextState:
    """The graphics and text state followed through a content stream, and the boxes shown so far."""

    boxes: list[Box] = field(default_factory=list)
    operands: list[Any] = field(default_factory=list)
    ctm: Matrix = _IDENTITY
    stack: list[Matrix] = field(default_factory=list)
    tm: Matrix = _IDENTITY
    tlm: Matrix = _IDENTITY
    size: float = 0.0
    leading: float = 0.0
    char_spacing: float = 0.0
    scale: float = 1.0
    array_depth: int = 0

    def read(self, content: bytes, match: re.Match[bytes]) -> int:
        """Take the token ``match`` into account; the position after it."""
        kind = match.lastgroup
        position = match.end()
        if kind == "ws":
            return position
        if kind == "lstring":
            length, position = _literal_length(content, position)
            self.operands.append(("string", length))
        elif kind == "op":
            position = self._operator(match.group().decode("latin-1"), content, position)
        else:
            self._operand(kind, match)
        return position

    def _operand(self, kind: str | None, match: re.Match[bytes]) -> None:
        if kind == "number":
            self.operands.append(float(match.group()))
        elif kind == "hstring":
            digits = len(re.sub(rb"[^0-9A-Fa-f]", b"", match.group()))
            self.operands.append(("string", (digits + 1) // 2))
        elif kind == "array_open":
            self.array_depth += 1
            self.operands.append("[")
        elif kind == "array_close":
            self.array_depth -= 1
            self.operands.append("]")
        elif kind in ("name", "dict_open", "dict_close"):
            self.operands.append(match.group())

    def _operator(self, op: str, content: bytes, position: int) -> int:
        if self.array_depth:
            return position  # keywords such as true/false/null inside arrays
        numbers = [o for o in self.operands if isinstance(o, float)]
        if op == "BI":
            end = content.find(b"EI", position)
            if end < 0:
                raise ValueError("unterminated inline image")
            position = end + 2
        elif op in ("q", "Q", "cm"):
            self._graphics_state(op, numbers)
        elif op in ("Tf", "TL", "Tc", "Tz"):
            self._text_parameter(op, numbers)
        else:
            self._text_position(op, numbers)
        self._show(op)
        self.operands = []
        return position

    def _graphics_state(self, op: str, numbers: list[float]) -> None:
        if op == "q":
            self.stack.append(self.ctm)
        elif op == "Q":
            self.ctm = self.stack.pop() if self.stack else _IDENTITY
        elif len(numbers) >= 6:  # cm
            self.ctm = _multiply(tuple(numbers[-6:]), self.ctm)  # type: ignore[arg-type]

    def _text_parameter(self, op: str, numbers: list[float]) -> None:
        if not numbers:
            return
        if op == "Tf":
            self.size = abs(numbers[-1])
        elif op == "TL":
            self.leading = numbers[-1]
        elif op == "Tc":
            self.char_spacing = numbers[-1]
        else:  # Tz
            self.scale = numbers[-1] / 100.0

    def _text_position(self, op: str, numbers: list[float]) -> None:
        if op == "BT":
            self.tm = self.tlm = _IDENTITY
        elif op in ("Td", "TD") and len(numbers) >= 2:
            if op == "TD":
                self.leading = -numbers[-1]
            self.tm = self.tlm = _multiply((1.0, 0.0, 0.0, 1.0, numbers[-2], numbers[-1]), self.tlm)
        elif op == "Tm" and len(numbers) >= 6:
            self.tm = self.tlm = tuple(numbers[-6:])  # type: ignore[assignment]
        elif op in ("T*", "'", '"'):
            self.tm = self.tlm = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -self.leading), self.tlm)

    def _show(self, op: str) -> None:
        """The text-showing operators: a box per shown string (``TJ``: all of them, adjustments included)."""
        if op in ("Tj", "'", '"'):
            strings = [o[1] for o in self.operands if isinstance(o, tuple)]
            if strings:
                self._add_box(strings[-1])
        elif op == "TJ":
            strings = [o[1] for o in self.operands if isinstance(o, tuple)]
            adjust = sum(o for o in self.operands if isinstance(o, float)) * self.size / 1000.0
            self._add_box(sum(strings), adjust)

    def _add_box(self, byte_count: int, extra: float = 0.0) -> None:
        width = (byte_count * (self.size * 0.5 + self.char_spacing) - extra) * self.scale
        total = _multiply(self.tm, self.ctm)
        corners = [_apply(total, x, y) for x in (0.0, width) for y in (-0.1 * self.size, 0.75 * self.size)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        self.boxes.append((min(xs), min(ys), max(xs), max(ys)))
        self.tm = _multiply((1.0, 0.0, 0.0, 1.0, width, 0.0), self.tm)


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
