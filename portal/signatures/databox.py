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
XML document inside ``dmXMLContent``).

:func:`parse_zfo` verifies the CMS signature (the message digest over the content, the signature over
the signed attributes), optionally that the signer chains to a configured root, parses the XML safely
(no DTD, no entities, bounded size) and returns a frozen :class:`DataboxMessage`, or raises
:class:`DataboxError` with a stable ``code``. No Flask here.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

# asn1crypto.tsp registers CMS attribute names (signing_certificate_v2, ...) in cms's tables, which are
# frozen by the first attribute parsed: parsing a data message first would break every later pyhanko
# signature in this process (the permits). So the names are registered before anything is parsed.
import asn1crypto.tsp  # noqa: F401
import defusedxml.ElementTree as SafeET
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from defusedxml import DefusedXmlException

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
#: Longest certificate chain followed from the signer to a trust root.
MAX_CHAIN_LENGTH = 8

ERROR_CODES = frozenset(
    {
        "not_cms",
        "signature_invalid",
        "signer_not_trusted",
        "not_a_message",
        "wrong_recipient",
        "malformed_xml",
        "too_large",
    }
)

_PRAGUE = ZoneInfo("Europe/Prague")
_BOX_ID = re.compile(r"[a-z0-9]{7}")
_MESSAGE_ID = re.compile(r"[0-9]{1,20}")
_ISO_DATETIME = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,12}))?(?P<tz>Z|[+-]\d{2}:\d{2})?"
)
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

#: Digest algorithms accepted for the message digest and the signature (MD5 and SHA-1 are refused).
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
}


class DataboxError(ValueError):
    """A ``.zfo`` file that cannot be accepted; ``code`` is one of :data:`ERROR_CODES`."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown data-box error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class DataboxAttachment:
    """One file of the message (``dmFile``): its name, declared MIME type and decoded bytes."""

    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class DataboxMessage:
    """A verified data message. ``delivered_at`` is aware UTC (``dmDeliveryTime``, else
    ``dmAcceptanceTime``); ``signer_subject`` is the RFC 4514 subject of the CMS signer."""

    message_id: str
    sender_box_id: str
    recipient_box_id: str
    delivered_at: datetime
    annotation: str
    attachments: tuple[DataboxAttachment, ...]
    signer_subject: str


def parse_zfo(
    data: bytes,
    *,
    trust_roots: Sequence[bytes] = (),
    expected_recipient: str | None = OFFICE_BOX_ID,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DataboxMessage:
    """Verify and read a ``.zfo`` data message.

    ``trust_roots``: certificates (PEM, possibly several in one item, or DER); when given, the signer
    certificate must chain to one of them through certificates carried in the CMS, each valid at the
    signing time (the signed ``signingTime`` attribute, else the delivery time). With no roots the
    signature must still be cryptographically valid. ``expected_recipient``: the box the message must
    be addressed to (``None`` skips the check). Raises :class:`DataboxError`; a trust root that is not
    a certificate raises a plain :class:`ValueError` (configuration, not the upload).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_zfo expects bytes")
    roots = _load_trust_roots(trust_roots)
    data = bytes(data)
    if len(data) > max_bytes:
        raise DataboxError("too_large", f"the file has {len(data)} bytes, more than the limit of {max_bytes}")

    signed = _parse_cms(data)
    signer_cert, signing_time = _verify_signature(signed)

    chain: list[x509.Certificate] = []
    if roots:
        chain = _chain_to_roots(signer_cert, signed.certificates, roots)
        if signing_time is not None:
            _check_validity(chain, signing_time)

    root = _parse_xml(signed.content)
    message = _read_message(root, signer_subject=signer_cert.subject.rfc4514_string())

    if roots and signing_time is None:
        _check_validity(chain, message.delivered_at)

    if expected_recipient is not None and message.recipient_box_id != expected_recipient.strip().lower():
        raise DataboxError(
            "wrong_recipient",
            f"the message is addressed to box {message.recipient_box_id}, not to {expected_recipient}",
        )
    return message


# --- CMS ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SignedContent:
    content: bytes
    content_type: str
    signer_infos: tuple[cms.SignerInfo, ...]
    certificates: tuple[x509.Certificate, ...]
    asn1_certificates: tuple[asn1_x509.Certificate, ...]


def _parse_cms(data: bytes) -> _SignedContent:
    """The ``SignedData`` structure, eagerly parsed: every failure here is ``not_cms``."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise DataboxError("not_cms", "the file is CMS but not SignedData")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        content_type = encap["content_type"].native
        content_value = encap["content"]
        content = None if content_value is None or content_value.native is None else content_value.native
        signer_infos = tuple(signed_data["signer_infos"])
        for signer_info in signer_infos:
            signer_info.native  # noqa: B018 -- parse eagerly so that later access cannot fail
        asn1_certs = []
        for choice in signed_data["certificates"] or ():
            if choice.name == "certificate":
                cert = choice.chosen
                cert.native  # noqa: B018
                asn1_certs.append(cert)
    except DataboxError:
        raise
    except Exception as exc:  # asn1crypto raises many types on hostile input; all mean "not CMS"
        raise DataboxError("not_cms", "the file is not a CMS SignedData structure") from exc
    if not isinstance(content, bytes):
        raise DataboxError("not_cms", "the CMS structure carries no encapsulated content")
    certificates = []
    kept_asn1 = []
    for cert in asn1_certs:
        try:
            certificates.append(x509.load_der_x509_certificate(cert.dump()))
        except ValueError:
            continue  # an unparsable extra certificate is ignored; the signer's is checked later
        kept_asn1.append(cert)
    return _SignedContent(
        content=content,
        content_type=content_type,
        signer_infos=signer_infos,
        certificates=tuple(certificates),
        asn1_certificates=tuple(kept_asn1),
    )


def _verify_signature(signed: _SignedContent) -> tuple[x509.Certificate, datetime | None]:
    """Verify every SignerInfo; return the (first) signer's certificate and its signing time."""
    if not signed.signer_infos:
        raise DataboxError("signature_invalid", "the CMS structure has no signature")
    first: tuple[x509.Certificate, datetime | None] | None = None
    for signer_info in signed.signer_infos:
        try:
            result = _verify_signer_info(signer_info, signed)
        except DataboxError:
            raise
        except Exception as exc:
            raise DataboxError("signature_invalid", "the signature cannot be verified") from exc
        if first is None:
            first = result
    assert first is not None
    return first


def _verify_signer_info(
    signer_info: cms.SignerInfo, signed: _SignedContent
) -> tuple[x509.Certificate, datetime | None]:
    cert = _find_signer_certificate(signer_info["sid"], signed)
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    digest_cls = _hash_class(digest_name)
    signed_attrs = signer_info["signed_attrs"]
    signing_time: datetime | None = None

    if signed_attrs is not None and len(signed_attrs) > 0:
        attrs = _attributes(signed_attrs)
        content_types = attrs.get("content_type", [])
        if len(content_types) != 1 or content_types[0] != signed.content_type:
            raise DataboxError("signature_invalid", "the signed content-type attribute does not match the content")
        digests = attrs.get("message_digest", [])
        if len(digests) != 1:
            raise DataboxError("signature_invalid", "the signature has no single message-digest attribute")
        hasher = hashes.Hash(digest_cls())
        hasher.update(signed.content)
        actual = hasher.finalize()
        if not isinstance(digests[0], bytes) or len(digests[0]) != len(actual) or digests[0] != actual:
            raise DataboxError("signature_invalid", "the message content does not match the signed digest")
        times = attrs.get("signing_time", [])
        if len(times) > 1:
            raise DataboxError("signature_invalid", "the signature has more than one signing-time attribute")
        if times and isinstance(times[0], datetime):
            signing_time = times[0].astimezone(UTC)
        # The signature covers the DER encoding of the attributes as a SET OF (tag 0x31, not [0]).
        encoded = signed_attrs.dump()
        candidates = [b"\x31" + encoded[1:]]
        reencoded = signed_attrs.untag().dump(force=True)
        if reencoded not in candidates:
            candidates.append(reencoded)
    else:
        candidates = [signed.content]

    signature = signer_info["signature"].native
    algorithm = signer_info["signature_algorithm"]
    for signed_bytes in candidates:
        if _signature_matches(cert, algorithm, digest_name, signature, signed_bytes):
            return cert, signing_time
    raise DataboxError("signature_invalid", "the signature does not match the signer's certificate")


def _attributes(signed_attrs: cms.CMSAttributes) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for attr in signed_attrs:
        name = attr["type"].native
        out.setdefault(name, []).extend(value.native for value in attr["values"])
    return out


def _find_signer_certificate(sid: cms.SignerIdentifier, signed: _SignedContent) -> x509.Certificate:
    for asn1_cert, cert in zip(signed.asn1_certificates, signed.certificates, strict=True):
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if asn1_cert.serial_number == ias["serial_number"].native and asn1_cert.issuer == ias["issuer"]:
                return cert
        elif sid.name == "subject_key_identifier" and asn1_cert.key_identifier == sid.chosen.native:
            return cert
    raise DataboxError("signature_invalid", "the signer's certificate is not included in the file")


def _hash_class(name: str) -> type[hashes.HashAlgorithm]:
    try:
        return _HASHES[name]
    except KeyError:
        raise DataboxError("signature_invalid", f"digest algorithm {name} is not accepted") from None


def _signature_matches(
    cert: x509.Certificate, algorithm: Any, digest_name: str, signature: bytes, signed_bytes: bytes
) -> bool:
    kind = algorithm.signature_algo
    try:
        hash_name = algorithm.hash_algo
    except ValueError:  # rsaEncryption / plain ecdsa: the hash is the SignerInfo's digest algorithm
        hash_name = digest_name
    hash_alg = _hash_class(hash_name)()
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_alg)
        elif isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
            params = algorithm["parameters"]
            mgf = params["mask_gen_algorithm"]
            if mgf["algorithm"].native != "mgf1":
                return False
            mgf_hash = _hash_class(mgf["parameters"]["algorithm"].native)()
            salt = params["salt_length"].native
            key.verify(signature, signed_bytes, padding.PSS(padding.MGF1(mgf_hash), salt), hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            key.verify(signature, signed_bytes, ec.ECDSA(hash_alg))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) and kind in ("ed25519", "ed448"):
            key.verify(signature, signed_bytes)
        else:
            raise DataboxError("signature_invalid", f"signature algorithm {kind} does not fit the signer's key")
    except InvalidSignature:
        return False
    return True


# --- trust ----------------------------------------------------------------------------------------


def _load_trust_roots(trust_roots: Iterable[bytes | x509.Certificate]) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    for item in trust_roots:
        if isinstance(item, x509.Certificate):
            roots.append(item)
            continue
        raw = bytes(item)
        if b"-----BEGIN CERTIFICATE-----" in raw:
            roots.extend(x509.load_pem_x509_certificates(raw))
        else:
            roots.append(x509.load_der_x509_certificate(raw))
    return roots


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _chain_to_roots(
    signer: x509.Certificate, pool: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates from the signer up to (excluding) a trust root, or ``signer_not_trusted``."""

    def walk(current: x509.Certificate, path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        if any(current == root or _issued_by(current, root) for root in roots):
            return path
        if len(path) >= MAX_CHAIN_LENGTH:
            return None
        for candidate in pool:
            if candidate in path or not _is_ca(candidate) or not _issued_by(current, candidate):
                continue
            found = walk(candidate, [*path, candidate])
            if found is not None:
                return found
        return None

    chain = walk(signer, [signer])
    if chain is None:
        raise DataboxError(
            "signer_not_trusted",
            f"the signer {signer.subject.rfc4514_string()} does not chain to a configured trust root",
        )
    return chain


def _check_validity(chain: Sequence[x509.Certificate], at: datetime) -> None:
    for cert in chain:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            raise DataboxError(
                "signer_not_trusted",
                f"certificate {cert.subject.rfc4514_string()} was not valid at {at.isoformat()}",
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


def _read_message(root: Any, *, signer_subject: str) -> DataboxMessage:
    root_ns, root_local = _local(root.tag)
    if root_local != "MessageDownloadResponse" or root_ns not in _WRAPPER_NAMESPACES:
        raise DataboxError("not_a_message", "the signed content is not an ISDS data message")
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
    if len(file_elements) > MAX_ATTACHMENTS:
        raise DataboxError("too_large", f"the message has more than {MAX_ATTACHMENTS} attachments")
    attachments = tuple(_read_attachment(element, index, inner) for index, element in enumerate(file_elements, start=1))
    return DataboxMessage(
        message_id=message_id,
        sender_box_id=sender,
        recipient_box_id=recipient,
        delivered_at=delivered_at,
        annotation=annotation,
        attachments=attachments,
        signer_subject=signer_subject,
    )


def _read_attachment(element: Any, index: int, namespaces: Sequence[str]) -> DataboxAttachment:
    encoded = _one(element, "dmEncodedContent", namespaces, required=False)
    xml_content = _one(element, "dmXMLContent", namespaces, required=False)
    if encoded is not None:
        text = "".join(encoded.itertext())
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DataboxError("malformed_xml", f"attachment {index} is not valid base64") from exc
    elif xml_content is not None:
        documents = list(xml_content)
        if len(documents) != 1:
            raise DataboxError("not_a_message", f"attachment {index} has no single XML document")
        data = SafeET.tostring(documents[0], encoding="utf-8")
    else:
        raise DataboxError("not_a_message", f"attachment {index} has no content")
    mime_type = (element.get("dmMimeType") or "").strip() or "application/octet-stream"
    return DataboxAttachment(filename=_safe_filename(element.get("dmFileDescr"), index), mime_type=mime_type, data=data)


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
