"""Whether a 200's body is good XML results, judged as it streams in (the drill's clients, ``drill.clients``).

A body is good when it gunzips (if ``Content-Encoding: gzip``), parses as well-formed XML by a streaming
expat parse that refuses DTDs and entity declarations, and its root element is not ``html``.
"""

from __future__ import annotations

import zlib
from typing import Any
from xml.parsers import expat

#: How much of a whole body ``check_body`` feeds at a time.
CHUNK = 64 * 1024


class Refused(Exception):
    """The XML declares something we never parse (a DTD, an entity) or is an HTML page."""


class BodyCheck:
    """Streams a 200's body through gunzip (if encoded) and expat; ``finish()`` says what is wrong, if anything."""

    def __init__(self, gzip: bool = False) -> None:
        self._inflate = zlib.decompressobj(wbits=31) if gzip else None
        self.root: str | None = None
        self.error: str | None = None
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.StartElementHandler = self._start
        self._parser: Any = parser

    def _refuse_doctype(self, name: str, *_: object) -> None:
        if name.rpartition(":")[2].lower() == "html":
            raise Refused("an HTML page, not XML results")
        raise Refused("xml: a DOCTYPE declaration (DTDs are refused)")

    def _refuse_entity(self, *_: object) -> None:
        raise Refused("xml: an entity declaration")

    def _start(self, name: str, _attributes: object) -> None:
        self.root = name
        self._parser.StartElementHandler = None  # only the root matters: the rest parses at C speed
        if name.rpartition(":")[2].lower() == "html":
            raise Refused("an HTML page, not XML results")

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            self.error = f"xml: {error}"
        except Refused as error:
            self.error = str(error)

    def feed(self, chunk: bytes) -> None:
        if self.error is not None or not chunk:
            return
        data = chunk
        if self._inflate is not None:
            if self._inflate.eof:
                self.error = "gzip: data after the end of the gzip stream"
                return
            try:
                data = self._inflate.decompress(chunk)
            except zlib.error as error:
                self.error = f"gzip: {error}"
                return
            if self._inflate.unused_data:
                self.error = "gzip: data after the end of the gzip stream"
                return
        if data:
            self._parse(data, False)

    def finish(self) -> str | None:
        """None if the body was good XML results, else why not."""
        if self.error is None and self._inflate is not None:
            try:
                rest = self._inflate.flush()
            except zlib.error as error:
                self.error = f"gzip: {error}"
                return self.error
            if not self._inflate.eof:
                self.error = "gzip: the stream ends early"
                return self.error
            if rest:
                self._parse(rest, False)
        if self.error is None:
            self._parse(b"", True)
        if self.error is None and self.root is None:
            self.error = "xml: no root element"
        return self.error


def check_body(body: bytes, gzip: bool = False) -> str | None:
    """Why a complete 200 body is not good XML results, or None (for tests and one-off checks)."""
    check = BodyCheck(gzip)
    for start in range(0, len(body), CHUNK):
        check.feed(body[start : start + CHUNK])
    return check.finish()
