"""Import of a data message exported from the Czech data-box system (ISDS, "datová schránka") as ``.zfo``.

A ``.zfo`` file is a CMS (PKCS #7) ``SignedData`` signed by ISDS itself, usually BER-encoded with
indefinite lengths and the content split into OCTET STRING chunks. Its encapsulated content is the
message XML, as returned by the ``SignedMessageDownload`` web service::

    <q:MessageDownloadResponse xmlns:q="http://isds.czechpoint.cz/v20/message"
                               xmlns:p="http://isds.czechpoint.cz/v20">
      <q:dmReturnedMessage>
        <p:dmDm>
          <p:dmID>1446014</p:dmID>
          <p:dbIDSender>9ky2eiu</p:dbIDSender>
          <p:dmSender>...</p:dmSender>
          <p:dbIDRecipient>2gfaasy</p:dbIDRecipient>
          <p:dmAnnotation>...</p:dmAnnotation>
          ...
          <p:dmFiles>
            <p:dmFile dmMimeType="application/pdf" dmFileMetaType="main" dmFileDescr="zadost.pdf"
                      dmFileGuid="" dmUpFileGuid="" dmFormat="">
              <p:dmEncodedContent>JVBERi0xLjcK...</p:dmEncodedContent>
            </p:dmFile>
          </p:dmFiles>
        </p:dmDm>
        <q:dmHash algorithm="SHA-256">...</q:dmHash>
        <q:dmQTimestamp>...</q:dmQTimestamp>
        <q:dmDeliveryTime>2022-09-09T10:15:30.250+02:00</q:dmDeliveryTime>
        <q:dmAcceptanceTime>2022-09-09T11:02:11.001+02:00</q:dmAcceptanceTime>
        <q:dmMessageStatus>6</q:dmMessageStatus>
        <q:dmAttachmentSize>107</q:dmAttachmentSize>
      </q:dmReturnedMessage>
    </q:MessageDownloadResponse>

The envelope (``dmDm``) is in the ``v20`` namespace; the wrapper and the delivery data that are
siblings of ``dmDm`` are in ``v20/message`` for a received message and ``v20/SentMessage`` for a sent
one (the plain SOAP response uses ``v20`` throughout; all three are accepted). File name and MIME type
are *attributes* of ``dmFile``; the content is the base64 text of ``dmEncodedContent`` (or, rarely, an
XML fragment inside ``dmXMLContent``, kept as its bytes; it may hold several sibling elements).

:func:`parse_zfo` verifies the CMS signature (the message digest over the content, the signature over
the signed attributes; retired algorithms such as SHA-1 are ``weak_algorithm``), parses the XML safely
(no DTD, no entities, bounded size), validates the signer's certificate path with pyhanko-certvalidator
at the message's signing time (CMS ``signingTime``, else the delivery time) when roots are configured,
and returns a frozen :class:`DataboxMessage`, or raises :class:`DataboxError` with a stable ``code``.
A delivery receipt (``GetDeliveryInfoResponse``) or an envelope without files is ``not_a_message``.
No Flask here; the CMS side is in :mod:`portal.signatures.databox_cms`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from portal.signatures.databox_cms import (
    load_crls,
    load_trust_anchors,
    parse_signed_data,
    subject_string,
    validate_signer_path,
    verify_signature,
)
from portal.signatures.databox_errors import ERROR_CODES, DataboxError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ERROR_CODES",
    "MAX_ATTACHMENTS",
    "NS_ISDS",
    "NS_MESSAGE",
    "NS_SENT_MESSAGE",
    "OFFICE_BOX_ID",
    "DataboxAttachment",
    "DataboxError",
    "DataboxMessage",
    "parse_isds_time",
    "parse_zfo",
    "refusal_json",
]

#: The office's data box (ČSÚ).
OFFICE_BOX_ID = "2gfaasy"

NS_ISDS = "http://isds.czechpoint.cz/v20"
#: Wrapper namespace of a signed *received* message (``SignedMessageDownload``).
NS_MESSAGE = "http://isds.czechpoint.cz/v20/message"
#: Wrapper namespace of a signed *sent* message (``SignedSentMessageDownload``).
NS_SENT_MESSAGE = "http://isds.czechpoint.cz/v20/SentMessage"
_WRAPPER_NAMESPACES = (NS_MESSAGE, NS_SENT_MESSAGE, NS_ISDS)

DEFAULT_MAX_BYTES = 20 * 2**20
#: More attachments than this is refused with ``too_large``.
MAX_ATTACHMENTS = 100
#: More XML elements than this is refused with ``too_large`` (a real message has a few dozen).
MAX_XML_ELEMENTS = 5_000

_PRAGUE = ZoneInfo("Europe/Prague")
_BOX_ID = re.compile(r"[a-z0-9]{7}")
_MESSAGE_ID = re.compile(r"[0-9]{1,20}")
_ISO_DATETIME = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,12}))?(?P<tz>Z|[+-]\d{2}:\d{2})?"
)
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@dataclass(frozen=True)
class DataboxAttachment:
    """One file of the message (``dmFile``): its name, MIME type and bytes. ``kind`` is "file" for
    base64 content (``dmEncodedContent``) and "xml" for an inline fragment (``dmXMLContent``), whose
    bytes are the fragment as signed."""

    filename: str
    mime_type: str
    data: bytes
    kind: Literal["file", "xml"] = "file"

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size": self.size,
            "sha256": self.sha256,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class DataboxMessage:
    """A verified data message. Times are aware UTC: ``delivered_at`` is ``dmDeliveryTime`` (else
    ``dmAcceptanceTime``), ``signing_time`` the CMS ``signingTime`` and ``validated_at`` the moment the
    certificate path was judged at. ``signer_subject`` is the RFC 4514 subject of the CMS signer;
    ``chain`` the subjects from the signer to the root (empty when no roots are configured)."""

    message_id: str
    sender_box_id: str
    recipient_box_id: str
    delivered_at: datetime
    annotation: str
    attachments: tuple[DataboxAttachment, ...]
    signer_subject: str
    signing_time: datetime | None = None
    validated_at: datetime | None = None
    chain: tuple[str, ...] = ()
    sender_name: str = ""
    recipient_name: str = ""

    def to_json(self) -> dict[str, Any]:
        """The object ``portal databox inspect --json`` prints for an accepted message."""
        return {
            "accepted": True,
            "message_id": self.message_id,
            "sender_box_id": self.sender_box_id,
            "sender_name": self.sender_name,
            "recipient_box_id": self.recipient_box_id,
            "recipient_name": self.recipient_name,
            "delivered_at": _iso(self.delivered_at),
            "annotation": self.annotation,
            "signer": self.signer_subject,
            "signing_time": _iso(self.signing_time),
            "validated_at": _iso(self.validated_at),
            "chain": list(self.chain),
            "attachments": [attachment.to_json() for attachment in self.attachments],
        }


def refusal_json(error: DataboxError) -> dict[str, Any]:
    """The object ``portal databox inspect --json`` prints for a refused file: nothing it holds is
    reported, since none of it is verified."""
    out: dict[str, Any] = {"accepted": False, "code": error.code, "reason": error.message}
    if error.algorithm is not None:
        out["algorithm"] = error.algorithm
    for key in ("message_id", "sender_box_id", "recipient_box_id", "delivered_at", "annotation", "signer"):
        out[key] = None
    out.update({"signing_time": None, "chain": [], "attachments": []})
    return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_zfo(
    data: bytes,
    *,
    trust_roots: Sequence[bytes] = (),
    crls: Sequence[bytes] = (),
    expected_recipient: str | None = OFFICE_BOX_ID,
    max_bytes: int = DEFAULT_MAX_BYTES,
    at: datetime | None = None,
) -> DataboxMessage:
    """Verify and read a ``.zfo`` data message.

    ``trust_roots``: certificates (PEM, possibly several in one item, or DER). The self-signed ones are
    the anchors, the others intermediates for building the path (with those carried in the message).
    When given, the signer's path is validated with pyhanko-certvalidator at ``at``, by default the
    signing time (the signed ``signingTime`` attribute, else the delivery time), with revocation checked
    against ``crls`` (PEM or DER; nothing is fetched). With no roots the signature must still be
    cryptographically valid. ``expected_recipient``: the box the message must be addressed to
    (``None`` skips the check). Raises :class:`DataboxError`; a trust root or CRL that does not parse
    raises a plain :class:`ValueError` (configuration, not the upload).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_zfo expects bytes")
    if at is not None and at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    anchors = load_trust_anchors(trust_roots)
    revocation = load_crls(crls)
    data = bytes(data)
    if len(data) > max_bytes:
        raise DataboxError("too_large", f"the file has {len(data)} bytes, more than the limit of {max_bytes}")

    signed = parse_signed_data(data)
    signature = verify_signature(signed)
    root = _parse_xml(signed.content)
    message = _read_message(root, signed.content)

    chain: tuple[str, ...] = ()
    moment = at or signature.signing_time or message["delivered_at"]
    if anchors:
        chain = validate_signer_path(signature.certificate, signed.certificates, anchors, revocation, moment)

    if expected_recipient is not None and message["recipient_box_id"] != expected_recipient.strip().lower():
        raise DataboxError(
            "wrong_recipient",
            f"the message is addressed to box {message['recipient_box_id']}, not to {expected_recipient}",
        )
    return DataboxMessage(
        **message,
        signer_subject=subject_string(signature.certificate.subject),
        signing_time=signature.signing_time,
        validated_at=moment.astimezone(UTC) if anchors else None,
        chain=chain,
    )


# --- XML ------------------------------------------------------------------------------------------


def _parse_xml(content: bytes) -> Any:
    """Parse the message XML: no DTD, no entities, no external references, a bounded element count."""
    try:
        events = SafeET.iterparse(io.BytesIO(content), events=("start",), forbid_dtd=True)
        for count, _ in enumerate(events, start=1):
            if count > MAX_XML_ELEMENTS:
                raise DataboxError("too_large", f"the message XML has more than {MAX_XML_ELEMENTS} elements")
        return events.root
    except DataboxError:
        raise
    except (SafeET.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise DataboxError("malformed_xml", f"the message XML cannot be parsed safely ({type(exc).__name__})") from exc


def _local(tag: Any) -> tuple[str | None, str]:
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _children(parent: Any, local: str, namespaces: Sequence[str]) -> list[Any]:
    return [child for child in parent if _local(child.tag)[1] == local and _local(child.tag)[0] in namespaces]


def _one(parent: Any, local: str, namespaces: Sequence[str], *, required: bool = True) -> Any:
    found = _children(parent, local, namespaces)
    if len(found) > 1:
        raise DataboxError("not_a_message", f"the message has more than one {local} element")
    if not found:
        if required:
            raise DataboxError("not_a_message", f"the message has no {local} element")
        return None
    return found[0]


def _text(element: Any) -> str | None:
    if element is None or element.get(_XSI_NIL) in ("true", "1"):
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _required_text(parent: Any, local: str, namespaces: Sequence[str]) -> str:
    value = _text(_one(parent, local, namespaces))
    if value is None:
        raise DataboxError("not_a_message", f"the message's {local} is empty")
    return value


def _read_message(root: Any, content: bytes) -> dict[str, Any]:
    """The envelope's fields (the keyword arguments of :class:`DataboxMessage` read from the XML)."""
    root_ns, root_local = _local(root.tag)
    if root_local != "MessageDownloadResponse" or root_ns not in _WRAPPER_NAMESPACES:
        what = {"GetDeliveryInfoResponse": "a delivery receipt"}.get(root_local, "not an ISDS data message")
        raise DataboxError("not_a_message", f"the signed content is {what}, not a data message")
    outer = tuple(dict.fromkeys((root_ns, NS_ISDS)))
    returned = _one(root, "dmReturnedMessage", outer)
    envelope = _one(returned, "dmDm", (NS_ISDS, root_ns))
    inner = tuple(dict.fromkeys((NS_ISDS, root_ns)))

    message_id = _required_text(envelope, "dmID", inner)
    if not _MESSAGE_ID.fullmatch(message_id):
        raise DataboxError("not_a_message", "the message ID is not an ISDS message ID")
    sender = _required_text(envelope, "dbIDSender", inner).lower()
    recipient = _required_text(envelope, "dbIDRecipient", inner).lower()
    for label, box_id in (("sender", sender), ("recipient", recipient)):
        if not _BOX_ID.fullmatch(box_id):
            raise DataboxError("not_a_message", f"the {label} box ID is not a data-box ID")
    annotation = _text(_one(envelope, "dmAnnotation", inner, required=False)) or ""

    delivered_text = _text(_one(returned, "dmDeliveryTime", outer, required=False)) or _text(
        _one(returned, "dmAcceptanceTime", outer, required=False)
    )
    if delivered_text is None:
        raise DataboxError("not_a_message", "the message has no delivery time")
    delivered_at = parse_isds_time(delivered_text)

    files_element = _one(envelope, "dmFiles", inner, required=False)
    file_elements = [] if files_element is None else _children(files_element, "dmFile", inner)
    if not file_elements:
        raise DataboxError("not_a_message", "the message carries no files: an envelope, not a data message")
    if len(file_elements) > MAX_ATTACHMENTS:
        raise DataboxError("too_large", f"the message has more than {MAX_ATTACHMENTS} attachments")
    fragments = (
        _xml_fragments(content, inner)
        if any(_children(element, "dmXMLContent", inner) for element in file_elements)
        else []
    )
    attachments = []
    for index, element in enumerate(file_elements, start=1):
        attachments.append(_read_attachment(element, index, inner, fragments))
    if fragments:
        raise DataboxError("malformed_xml", "the message's inline XML attachments cannot be matched to its files")
    return {
        "message_id": message_id,
        "sender_box_id": sender,
        "recipient_box_id": recipient,
        "delivered_at": delivered_at,
        "annotation": annotation,
        "attachments": tuple(attachments),
        "sender_name": _text(_one(envelope, "dmSender", inner, required=False)) or "",
        "recipient_name": _text(_one(envelope, "dmRecipient", inner, required=False)) or "",
    }


def _read_attachment(element: Any, index: int, namespaces: Sequence[str], fragments: list[bytes]) -> DataboxAttachment:
    """One ``dmFile``; ``fragments`` are the remaining ``dmXMLContent`` bytes in document order."""
    encoded = _one(element, "dmEncodedContent", namespaces, required=False)
    xml_content = _one(element, "dmXMLContent", namespaces, required=False)
    declared = (element.get("dmMimeType") or "").strip()
    if encoded is not None and xml_content is not None:
        raise DataboxError("not_a_message", f"attachment {index} has both encoded and XML content")
    if encoded is not None:
        text = "".join(encoded.itertext())
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DataboxError("malformed_xml", f"attachment {index} is not valid base64") from exc
        kind: Literal["file", "xml"] = "file"
        mime_type = declared or "application/octet-stream"
    elif xml_content is not None:
        if len(xml_content) == 0:
            raise DataboxError("not_a_message", f"attachment {index} holds no XML element")
        if not fragments:
            raise DataboxError("malformed_xml", "the message's inline XML attachments cannot be matched to its files")
        data = fragments.pop(0)
        kind = "xml"
        mime_type = declared or "application/xml"
    else:
        raise DataboxError("not_a_message", f"attachment {index} has no content")
    return DataboxAttachment(
        filename=_safe_filename(element.get("dmFileDescr"), index), mime_type=mime_type, data=data, kind=kind
    )


_ENCODING_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _xml_fragments(content: bytes, namespaces: Sequence[str]) -> list[bytes]:
    """The bytes inside each ``dmDm/dmFiles/dmFile/dmXMLContent``, in document order, exactly as signed (in
    UTF-8). The document has already been parsed safely (no DTD, so no entities): expat is only asked
    where elements start and end."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    stack: list[str] = []
    spans: list[tuple[int, int]] = []
    opened: list[int] = []  # where the content of the open dmXMLContent starts (at most one)

    def local_in(name: str, local: str) -> bool:
        namespace, _, tag = name.rpartition("}")
        return tag == local and namespace in namespaces

    def start(name: str, _attributes: Any) -> None:
        ancestors = stack[-3:]
        stack.append(name)
        if opened or not local_in(name, "dmXMLContent") or len(ancestors) != 3:
            return
        if not all(local_in(tag, local) for tag, local in zip(ancestors, ("dmDm", "dmFiles", "dmFile"), strict=True)):
            return
        opened.append(_end_of_start_tag(content, parser.CurrentByteIndex))
        opened.append(len(stack))

    def end(name: str) -> None:
        if opened and len(stack) == opened[1]:
            begin = opened[0]
            spans.append((begin, max(begin, parser.CurrentByteIndex)))
            opened.clear()
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(content, True)
    except xml.parsers.expat.ExpatError as exc:
        raise DataboxError("malformed_xml", "the message XML cannot be parsed") from exc
    match = _ENCODING_DECLARATION.match(content)
    encoding = match.group(1).decode("ascii").lower() if match else "utf-8"
    out = []
    for begin, finish in spans:
        raw = content[begin:finish]
        if encoding not in ("utf-8", "utf8"):
            try:
                raw = raw.decode(encoding).encode("utf-8")
            except (LookupError, UnicodeError) as exc:
                raise DataboxError("malformed_xml", f"the message XML's encoding {encoding} is not usable") from exc
        out.append(raw)
    return out


def _end_of_start_tag(content: bytes, begin: int) -> int:
    """The offset just after the start tag that begins at ``begin`` (quotes in attributes respected);
    for an empty-element tag (``<a/>``) that is the end of the element, so its content is empty."""
    quote = 0
    for offset in range(begin, len(content)):
        byte = content[offset]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:  # ">"
            return offset + 1
    return len(content)


def _safe_filename(name: str | None, index: int) -> str:
    """The file name without any directory part or control characters (``attachment-N`` if empty)."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if base in ("", ".", ".."):
        return f"attachment-{index}"
    return base


def parse_isds_time(text: str) -> datetime:
    """An ISDS ``xs:dateTime`` as aware UTC: an explicit offset or ``Z`` is honoured; a time with no
    offset is Prague local time. Fractions beyond microseconds are truncated."""
    match = _ISO_DATETIME.fullmatch(text.strip())
    if match is None:
        raise DataboxError("malformed_xml", f"{text!r} is not an ISO 8601 date and time")
    fraction = (match["frac"] or "")[:6].ljust(6, "0")
    tz = match["tz"]
    offset = "" if tz is None else "+00:00" if tz == "Z" else tz
    try:
        moment = datetime.fromisoformat(f"{match['base']}.{fraction}{offset}")
    except ValueError as exc:
        raise DataboxError("malformed_xml", f"{text!r} is not a valid date and time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_PRAGUE)
    return moment.astimezone(UTC)
