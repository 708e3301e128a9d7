"""ZFO-shaped data messages for tests: a tiny ISDS-like PKI, the message XML and its CMS envelope.

``make_zfo()`` returns the bytes of a ``.zfo`` file as ISDS exports it: a CMS SignedData (BER with
indefinite lengths and the content in 1000-byte OCTET STRING chunks, like the real files) whose
encapsulated content is a ``MessageDownloadResponse`` with one PDF attachment, signed by a test
"ISDS" certificate issued (through an intermediate carried in the CMS) by a test root::

    pki = default_pki()
    zfo = make_zfo(attachments=[("zadost.pdf", "application/pdf", pdf_bytes)],
                   delivered_at=datetime(2022, 9, 9, 10, 0, tzinfo=PRAGUE), sender_box_id="x7kq2mb")
    message = parse_zfo(zfo, trust_roots=[pki.root_pem])
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

PRAGUE = ZoneInfo("Europe/Prague")
NS_ISDS = "http://isds.czechpoint.cz/v20"
NS_MESSAGE = "http://isds.czechpoint.cz/v20/message"
NS_SENT_MESSAGE = "http://isds.czechpoint.cz/v20/SentMessage"
NS_DELIVERY = "http://isds.czechpoint.cz/v20/delivery"

OFFICE_BOX_ID = "2gfaasy"
DEFAULT_SENDER_BOX_ID = "x7kq2mb"
DEFAULT_MESSAGE_ID = "1234567890"
DEFAULT_ANNOTATION = "Žádost o přístup k výsledkům voleb"
#: Friday of the autumn 2022 deadline, mid-morning, Prague time.
DEFAULT_DELIVERED_AT = datetime(2022, 9, 9, 10, 15, 30, 250_000, tzinfo=PRAGUE)


def _minimal_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


#: A one-page PDF with a non-ASCII comment line, as a real attachment has.
MINIMAL_PDF = _minimal_pdf()


# --- PKI ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZfoSigner:
    """Who signs the CMS: the certificate and key, the extra certificates carried in the CMS
    (intermediates), and the root it chains to (for ``trust_roots``)."""

    certificate: x509.Certificate
    key: Any
    chain: tuple[x509.Certificate, ...] = ()
    root: x509.Certificate | None = None

    @property
    def root_pem(self) -> bytes:
        assert self.root is not None
        return self.root.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class IsdsPki:
    root: x509.Certificate
    root_key: Any
    intermediate: x509.Certificate | None
    intermediate_key: Any
    signer: ZfoSigner

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    @property
    def root_der(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.DER)


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def make_certificate(
    subject: x509.Name,
    public_key: Any,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    ca: bool,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    crl_url: str | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> x509.Certificate:
    """A certificate; self-signed when ``issuer`` is None (then ``issuer_key`` is its own key).
    ``crl_url`` adds a CRL distribution point (revocation is then checked against the given CRLs)."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=365))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False
        )
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    certificate = builder.sign(issuer_key, hashes.SHA256())
    if hash_algorithm is not None and not isinstance(hash_algorithm, hashes.SHA256):
        certificate = _resign(certificate, issuer_key, hash_algorithm)
    return certificate


def _resign(certificate: x509.Certificate, issuer_key: Any, hash_algorithm: hashes.HashAlgorithm) -> x509.Certificate:
    """The certificate signed again with ``hash_algorithm`` (RSA), which cryptography's builder no longer
    does for SHA-1: how certificates from before 2011 were signed."""
    parsed = cms.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    algorithm = {"algorithm": f"{hash_algorithm.name}_rsa"}
    tbs = parsed["tbs_certificate"].copy()
    tbs["signature"] = algorithm
    signature = issuer_key.sign(tbs.dump(force=True), padding.PKCS1v15(), hash_algorithm)
    resigned = cms.Certificate({"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature})
    return x509.load_der_x509_certificate(resigned.dump())


def make_crl(
    issuer: x509.Certificate, issuer_key: Any, revoked: Sequence[tuple[int, datetime]], *, at: datetime | None = None
) -> bytes:
    """A DER CRL by ``issuer`` listing ``(serial, revoked_at)``, issued at ``at`` (default now)."""
    now = at or datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + timedelta(days=7))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for serial, revoked_at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at).build()
        )
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def make_isds_pki(
    *,
    root_name: str = "ZFO Test Root CA",
    with_intermediate: bool = True,
    key_type: str = "rsa",
    signer_not_before: datetime | None = None,
    signer_not_after: datetime | None = None,
    signer_crl_url: str | None = None,
    signer_hash: hashes.HashAlgorithm | None = None,
) -> IsdsPki:
    """Root → (intermediate →) the ISDS-like signing certificate. ``key_type``: "rsa" or "ec";
    ``signer_hash``: the digest the issuer signs the signer's certificate with (SHA-256)."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = make_certificate(_name(root_name, "Test PKI"), root_key.public_key(), issuer_key=root_key, ca=True)
    issuer, issuer_key = root, root_key
    intermediate = intermediate_key = None
    if with_intermediate:
        intermediate_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        intermediate = make_certificate(
            _name(f"{root_name} - Qualified CA (PostSignum-like)", "Test PKI"),
            intermediate_key.public_key(),
            issuer=root,
            issuer_key=root_key,
            ca=True,
        )
        issuer, issuer_key = intermediate, intermediate_key
    if key_type == "ec":
        signer_key: Any = ec.generate_private_key(ec.SECP256R1())
    else:
        signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_cert = make_certificate(
        _name("Informační systém datových schránek (test)", "Digitální a informační agentura (test)"),
        signer_key.public_key(),
        issuer=issuer,
        issuer_key=issuer_key,
        ca=False,
        not_before=signer_not_before,
        not_after=signer_not_after,
        crl_url=signer_crl_url,
        hash_algorithm=signer_hash,
    )
    signer = ZfoSigner(
        certificate=signer_cert,
        key=signer_key,
        chain=(intermediate,) if intermediate is not None else (),
        root=root,
    )
    return IsdsPki(
        root=root, root_key=root_key, intermediate=intermediate, intermediate_key=intermediate_key, signer=signer
    )


@functools.cache
def default_pki() -> IsdsPki:
    """The PKI that ``make_zfo`` signs with by default (made once per test run)."""
    return make_isds_pki()


# --- the message XML ------------------------------------------------------------------------------


def isds_time(moment: datetime | str) -> str:
    """``moment`` as ISDS writes it: Prague local time, milliseconds, offset (a str is kept as is)."""
    if isinstance(moment, str):
        return moment
    local = moment.astimezone(PRAGUE)
    return local.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class XmlAttachment:
    """An attachment sent as inline XML (``dmXMLContent``): ``fragment`` is written verbatim inside it
    and may hold several sibling elements."""

    filename: str
    fragment: bytes
    mime_type: str = ""


def _attachment_fields(item: Any) -> tuple[str, str, bytes]:
    if isinstance(item, XmlAttachment):
        return item.filename, item.mime_type, item.fragment
    if isinstance(item, tuple):
        filename, mime_type, data = item
        return filename, mime_type, data
    return item.filename, item.mime_type, item.data


def _content_element(item: Any, data: bytes) -> str:
    if isinstance(item, XmlAttachment):
        return f"<p:dmXMLContent>{data.decode('utf-8')}</p:dmXMLContent>"
    encoded = base64.encodebytes(data).decode("ascii").strip()  # wrapped at 76 columns
    return f"<p:dmEncodedContent>{encoded}</p:dmEncodedContent>"


def _timed_element(name: str, value: datetime | str | None) -> str:
    if value is None:
        return f'<q:{name} xsi:nil="true"/>'
    return f"<q:{name}>{escape(isds_time(value))}</q:{name}>"


def message_xml(
    attachments: Sequence[Any] = (("zadost.pdf", "application/pdf", MINIMAL_PDF),),
    *,
    message_id: str = DEFAULT_MESSAGE_ID,
    sender_box_id: str = DEFAULT_SENDER_BOX_ID,
    recipient_box_id: str = OFFICE_BOX_ID,
    annotation: str = DEFAULT_ANNOTATION,
    delivered_at: datetime | str | None = DEFAULT_DELIVERED_AT,
    accepted_at: datetime | str | None = None,
    wrapper_ns: str = NS_MESSAGE,
) -> bytes:
    """The signed content of a ZFO (``SignedMessageDownload``'s ``MessageDownloadResponse``).

    Attachments are ``(filename, mime_type, data)`` tuples, objects with those attributes, or
    :class:`XmlAttachment` (inline XML). A
    ``None`` time is written as ``xsi:nil``; a ``str`` time is written verbatim.
    """
    files = []
    for index, item in enumerate(attachments):
        filename, mime_type, data = _attachment_fields(item)
        files.append(
            f"        <p:dmFile dmMimeType={quoteattr(mime_type)}"
            f' dmFileMetaType="{"main" if index == 0 else "enclosure"}"'
            f' dmFileDescr={quoteattr(filename)} dmFileGuid="" dmUpFileGuid="" dmFormat="">\n'
            f"          {_content_element(item, data)}\n"
            f"        </p:dmFile>"
        )
    envelope = (
        "    <p:dmDm>\n"
        f"      <p:dmID>{escape(message_id)}</p:dmID>\n"
        f"      <p:dbIDSender>{escape(sender_box_id)}</p:dbIDSender>\n"
        "      <p:dmSender>Redakce Testovací deník, a.s.</p:dmSender>\n"
        "      <p:dmSenderAddress>Vinohradská 1, 12000 Praha 2, CZ</p:dmSenderAddress>\n"
        "      <p:dmSenderType>10</p:dmSenderType>\n"
        "      <p:dmRecipient>Český statistický úřad</p:dmRecipient>\n"
        "      <p:dmRecipientAddress>Na padesátém 3268/81, 10082 Praha 10, CZ</p:dmRecipientAddress>\n"
        f"      <p:dbIDRecipient>{escape(recipient_box_id)}</p:dbIDRecipient>\n"
        f"      <p:dmAnnotation>{escape(annotation)}</p:dmAnnotation>\n"
        '      <p:dmRecipientRefNumber xsi:nil="true"/>\n'
        '      <p:dmSenderRefNumber xsi:nil="true"/>\n'
        "      <p:dmPersonalDelivery>false</p:dmPersonalDelivery>\n"
        "      <p:dmAllowSubstDelivery>true</p:dmAllowSubstDelivery>\n"
        "      <p:dmFiles>\n" + "\n".join(files) + "\n      </p:dmFiles>\n"
        "    </p:dmDm>\n"
    )
    size_kb = max(1, sum(len(_attachment_fields(item)[2]) for item in attachments) // 1024)
    digest = base64.b64encode(hashlib.sha256(envelope.encode()).digest()).decode()
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<q:MessageDownloadResponse xmlns:q="{wrapper_ns}" xmlns:p="{NS_ISDS}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <q:dmReturnedMessage>\n"
        f"{envelope}"
        f'    <q:dmHash algorithm="SHA-256">{digest}</q:dmHash>\n'
        "    <q:dmQTimestamp>MIAGCSqGSIb3DQEHAqCA</q:dmQTimestamp>\n"
        f"    {_timed_element('dmDeliveryTime', delivered_at)}\n"
        f"    {_timed_element('dmAcceptanceTime', accepted_at)}\n"
        "    <q:dmMessageStatus>6</q:dmMessageStatus>\n"
        f"    <q:dmAttachmentSize>{size_kb}</q:dmAttachmentSize>\n"
        "  </q:dmReturnedMessage>\n"
        "</q:MessageDownloadResponse>\n"
    )
    return document.encode("utf-8")


# --- the CMS envelope -----------------------------------------------------------------------------


def _indefinite(identifier: bytes, *parts: bytes) -> bytes:
    return identifier + b"\x80" + b"".join(parts) + b"\x00\x00"


def to_ber_indefinite(der: bytes, *, chunk: int = 1000) -> bytes:
    """Re-encode a DER ContentInfo(SignedData) as ISDS does: indefinite lengths for the outer
    structures and the content as a constructed OCTET STRING of ``chunk``-byte pieces."""
    info = cms.ContentInfo.load(der)
    signed_data = info["content"]
    encap = signed_data["encap_content_info"]
    content = encap["content"].native
    pieces = [core.OctetString(content[i : i + chunk]).dump() for i in range(0, len(content), chunk)]
    encap_ber = _indefinite(b"\x30", encap["content_type"].dump(), _indefinite(b"\xa0", _indefinite(b"\x24", *pieces)))
    fields = [signed_data["version"].dump(), signed_data["digest_algorithms"].dump(), encap_ber]
    for optional in ("certificates", "crls"):
        if signed_data[optional].native is not None:
            fields.append(signed_data[optional].dump())
    fields.append(signed_data["signer_infos"].dump())
    return _indefinite(b"\x30", info["content_type"].dump(), _indefinite(b"\xa0", _indefinite(b"\x30", *fields)))


def sign_cms(
    content: bytes,
    signer: ZfoSigner | None = None,
    *,
    ber: bool = True,
    include_certificates: bool = True,
    include_chain: bool = True,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    pss: bool = False,
    signed_attributes: bool = True,
) -> bytes:
    """CMS SignedData over ``content`` (attached; with signed attributes unless
    ``signed_attributes=False``, when the signature is over the content itself), as a ZFO file."""
    signer = signer or default_pki().signer
    algorithm = hash_algorithm or hashes.SHA256()
    rsa_padding = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=padding.PSS.DIGEST_LENGTH) if pss else None
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
    builder = builder.add_signer(signer.certificate, signer.key, algorithm, rsa_padding=rsa_padding)
    if include_chain:
        for cert in signer.chain:
            builder = builder.add_certificate(cert)
    options = [pkcs7.PKCS7Options.Binary]
    if not include_certificates:
        options.append(pkcs7.PKCS7Options.NoCerts)
    if not signed_attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    der = builder.sign(serialization.Encoding.DER, options)
    return to_ber_indefinite(der) if ber else der


def sign_cms_with(
    content: bytes,
    signer: ZfoSigner | None = None,
    *,
    digest_algorithm: str = "sha1",
    signing_time: datetime | None = None,
    ber: bool = True,
) -> bytes:
    """CMS SignedData built with asn1crypto, for what cryptography's builder refuses to make: SHA-1
    (as ISDS signed in 2009-2010) or MD5 as the digest, RSA PKCS #1 v1.5 as the signature."""
    signer = signer or default_pki().signer
    hash_cls = {"sha1": hashes.SHA1, "md5": hashes.MD5, "sha256": hashes.SHA256}[digest_algorithm]
    hasher = hashes.Hash(hash_cls())
    hasher.update(content)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time or datetime.now(UTC)})]}
        ),
        cms.CMSAttribute({"type": "message_digest", "values": [hasher.finalize()]}),
    ]
    signed_attrs = cms.CMSAttributes(attributes)
    signature = signer.key.sign(signed_attrs.dump(), padding.PKCS1v15(), hash_cls())
    certificate = cms.Certificate.load(signer.certificate.public_bytes(serialization.Encoding.DER))
    chain = [cms.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in signer.chain]
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": digest_algorithm},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_algorithm}],
            "encap_content_info": {"content_type": "data", "content": content},
            "certificates": [certificate, *chain],
            "signer_infos": [signer_info],
        }
    )
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return to_ber_indefinite(der) if ber else der


def make_zfo(
    attachments: Sequence[Any] = (("zadost.pdf", "application/pdf", MINIMAL_PDF),),
    *,
    delivered_at: datetime | str | None = DEFAULT_DELIVERED_AT,
    accepted_at: datetime | str | None = None,
    sender_box_id: str = DEFAULT_SENDER_BOX_ID,
    recipient_box_id: str = OFFICE_BOX_ID,
    message_id: str = DEFAULT_MESSAGE_ID,
    annotation: str = DEFAULT_ANNOTATION,
    signer: ZfoSigner | None = None,
    wrapper_ns: str = NS_MESSAGE,
    ber: bool = True,
) -> bytes:
    """A complete ``.zfo`` data message, signed by ``signer`` (default: ``default_pki().signer``)."""
    xml = message_xml(
        attachments,
        message_id=message_id,
        sender_box_id=sender_box_id,
        recipient_box_id=recipient_box_id,
        annotation=annotation,
        delivered_at=delivered_at,
        accepted_at=accepted_at,
        wrapper_ns=wrapper_ns,
    )
    return sign_cms(xml, signer, ber=ber)
