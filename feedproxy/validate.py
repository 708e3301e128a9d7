"""Is an upstream answer a complete, well-formed XML document of the expected kind?

The check runs while the body streams in (expat, fed chunk by chunk), so a size cap, a DTD or an
entity declaration stops the download early. Nothing is decoded to text: expat reads the encoding
the document declares (ISO-8859-2 and UTF-8 alike), and the bytes that passed are the bytes served.
"""

from __future__ import annotations

from xml.parsers import expat

#: Every reason a document can be refused for (a metrics label each).
REASONS: tuple[str, ...] = (
    "content_type",
    "encoding",
    "empty",
    "too_large",
    "dtd",
    "malformed",
    "truncated",
    "html",
    "root_changed",
)


class Rejected(ValueError):
    """The answer is not served: ``reason`` is one of REASONS (or an upstream outcome), ``detail`` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


def is_xml_content_type(value: str | None) -> bool:
    """``text/xml``, ``application/xml`` or any ``+xml`` type, parameters ignored."""
    if not value:
        return False
    media = value.split(";", 1)[0].strip().lower()
    return media in ("text/xml", "application/xml") or media.endswith("+xml")


class DocumentCheck:
    """Feed the body in chunks, then ``close()``: the root element's name, or Rejected."""

    def __init__(self, *, max_bytes: int, expected_root: str | None = None) -> None:
        self.max_bytes = max_bytes
        self.expected_root = expected_root
        self.root: str | None = None
        self.size = 0
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.UnparsedEntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_external
        parser.StartElementHandler = self._first_element
        self._parser = parser

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise Rejected("too_large", f"more than {self.max_bytes} bytes")
        self._parse(chunk, final=False)

    def close(self) -> str:
        if self.size == 0:
            raise Rejected("empty", "no body")
        self._parse(b"", final=True)
        if self.root is None:  # pragma: no cover - expat refuses a document without an element
            raise Rejected("malformed", "no root element")
        return self.root

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as error:
            code = expat.errors.messages.get(error.code, "")
            truncated = final and code in (expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN)
            truncated = truncated or (final and code == expat.errors.XML_ERROR_PARTIAL_CHAR)
            raise Rejected("truncated" if truncated else "malformed", str(error)) from error
        except (LookupError, UnicodeError) as error:  # an encoding Python does not know
            raise Rejected("malformed", f"encoding: {error}") from error

    def _first_element(self, name: str, _attributes: dict[str, str]) -> None:
        if name.rpartition(":")[2].lower() == "html":
            raise Rejected("html", f"root element {name}")
        if self.expected_root is not None and name != self.expected_root:
            raise Rejected("root_changed", f"root element {name}, the cached document has {self.expected_root}")
        self.root = name
        self._parser.StartElementHandler = None  # only the root matters; the rest parses faster without it

    @staticmethod
    def _refuse_doctype(name: str, *_args: object) -> None:
        raise Rejected("dtd", f"document type declaration {name}")

    @staticmethod
    def _refuse_entity(name: str, *_args: object) -> None:
        raise Rejected("dtd", f"entity declaration {name}")

    @staticmethod
    def _refuse_external(*_args: object) -> int:
        raise Rejected("dtd", "external entity reference")


def check_document(body: bytes, *, max_bytes: int, expected_root: str | None = None, chunk: int = 65536) -> str:
    """The root element of ``body`` if it is a document the proxy may serve, else Rejected."""
    check = DocumentCheck(max_bytes=max_bytes, expected_root=expected_root)
    for start in range(0, len(body), chunk):
        check.feed(body[start : start + chunk])
    return check.close()
