"""Attacks on signed PDFs, built with the test PKI: each returns the bytes a hostile uploader would send.

Every signer and TSA here is trusted and qualified (or deliberately not, where the attack is about
trust), so a refusal must come from detecting the attack.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

from cryptography.hazmat.primitives.asymmetric import ec

from tests.signatures.pki import Party, TestPKI, _name

#: A content stream that paints the whole A4 page white and writes other text on it.
OVERLAY = b"1 1 1 rg 0 0 595 842 re f 0 0 0 rg BT /Helv 24 Tf 50 700 Td (line 1: 203.0.113.66) Tj ET"


def gap(data: bytes, index: int = -1) -> tuple[int, int]:
    """The unsigned ByteRange gap [start, end) of the ``index``-th signature."""
    ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    _a, b, c, _d = (int(x) for x in ranges[index])
    return b, c


def literal_contents(signed: bytes) -> bytes:
    """Signature wrapping: /Contents rewritten as a literal string, the freed room of the gap filled
    with other bytes (here a comment). The signed bytes are untouched, so the signature still verifies."""
    start, end = gap(signed)
    hex_string = signed[start:end]
    cms = bytes.fromhex(hex_string[1:-1].decode())  # with its zero padding: the same length as parsed
    escaped = (
        cms.replace(b"\\", b"\\\\")
        .replace(b"(", b"\\(")
        .replace(b")", b"\\)")
        .replace(b"\r", b"\\r")
        .replace(b"\n", b"\\n")
    )
    literal = b"(" + escaped + b")"
    filler = b"%" + b"X" * (end - start - len(literal) - 2) + b"\n"
    replacement = literal + filler
    assert len(replacement) == end - start
    return signed[:start] + replacement + signed[end:]


def _objects(pdf: bytes) -> tuple[int, bytes, int]:
    """(next free object number, the /Root reference, the last startxref) of ``pdf``."""
    size = max(int(n) for n in re.findall(rb"/Size (\d+)", pdf))
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]
    startxref = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    return size, root, startxref


def first_page_content_ref(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    page = reader.root["/Pages"]["/Kids"][0]
    return int(page.raw_get("/Contents").reference.idnum)


def unlisted_redefinition(pdf: bytes, *, startxref_offset: int = 0) -> bytes:
    """An update that redefines the first page's content stream in its body, but lists only a harmless
    object (a new document info) in its xref; ``startxref_offset`` bytes off the real xref."""
    size, root, previous = _objects(pdf)
    content = first_page_content_ref(pdf)
    out = bytearray(pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    body = b"BT /F1 10 Tf 50 780 Td (line 1: 203.0.113.66 FORGED) Tj ET"
    out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (content, len(body), body)
    info_at = len(out)
    out += b"%d 0 obj\n<< /Producer (harmless) >>\nendobj\n" % size
    xref_at = len(out)
    out += b"xref\n%d 1\n%010d 00000 n \ntrailer\n" % (size, info_at)
    out += b"<< /Size %d /Prev %d /Root %s /Info %d 0 R >>\n" % (size + 1, previous, root, size)
    out += b"startxref\n%d\n%%%%EOF\n" % (xref_at + startxref_offset)
    return bytes(out)


def wrong_startxref(pdf: bytes) -> bytes:
    """A harmless update whose startxref points a few bytes before its xref table."""
    size, root, previous = _objects(pdf)
    out = bytearray(pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    info_at = len(out)
    out += b"%d 0 obj\n<< /Producer (harmless) >>\nendobj\n" % size
    xref_at = len(out)
    out += b"xref\n%d 1\n%010d 00000 n \ntrailer\n" % (size, info_at)
    out += b"<< /Size %d /Prev %d /Root %s /Info %d 0 R >>\n" % (size + 1, previous, root, size)
    out += b"startxref\n%d\n%%%%EOF\n" % (xref_at - 3)
    return bytes(out)


def trailing_object(pdf: bytes) -> bytes:
    """An object redefining the page content appended after the last %%EOF (no xref, no trailer)."""
    content = first_page_content_ref(pdf)
    body = b"BT /F1 10 Tf 50 780 Td (line 1: 203.0.113.66 FORGED) Tj ET"
    return pdf + b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (content, len(body), body)


def add_signature_field(
    pdf: bytes,
    name: str,
    *,
    box: tuple[int, int, int, int] = (0, 0, 595, 842),
    appearance: bytes | None = OVERLAY,
    javascript: bool = False,
) -> bytes:
    """An incremental update adding an empty signature field on the first page whose widget has
    ``appearance`` over ``box`` (and a JavaScript /AA when asked)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    append_signature_field(writer, SigFieldSpec(name, box=box))
    field = next(ref.get_object() for ref in writer.root["/AcroForm"]["/Fields"] if ref.get_object().get("/T") == name)
    if appearance is not None:
        stream = generic.StreamObject(
            {
                generic.pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(n) for n in box]),
                generic.pdf_name("/Resources"): generic.DictionaryObject(),
            },
            stream_data=appearance,
        )
        field[generic.pdf_name("/AP")] = generic.DictionaryObject({generic.pdf_name("/N"): writer.add_object(stream)})
    if javascript:
        field[generic.pdf_name("/AA")] = _javascript_actions()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _javascript_actions() -> object:
    from pyhanko.pdf_utils import generic

    action = generic.DictionaryObject(
        {
            generic.pdf_name("/S"): generic.pdf_name("/JavaScript"),
            generic.pdf_name("/JS"): generic.TextStringObject("app.alert('changed')"),
        }
    )
    return generic.DictionaryObject({generic.pdf_name("/PO"): action})


def add_javascript_to_signature_widget(signed: bytes) -> bytes:
    """An update after signing that gives the signature's widget a JavaScript /AA."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    field_ref = writer.root["/AcroForm"].raw_get("/Fields")
    fields = field_ref.get_object() if isinstance(field_ref, generic.IndirectObject) else field_ref
    target = fields.raw_get(len(fields) - 1)
    field = target.get_object()
    field[generic.pdf_name("/AA")] = _javascript_actions()
    writer.mark_update(target)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def garble_last_contents(data: bytes) -> bytes:
    """Overwrite the last signature's /Contents with other hex digits of the same length."""
    start, end = gap(data)
    length = end - start - 2
    return data[: start + 1] + (b"30" * (length // 2))[:length] + data[end - 1 :]


def extra_party(
    pki: TestPKI,
    name: str,
    *,
    issuer: Party | None = None,
    curve: ec.EllipticCurve | None = None,
    timestamping: bool = False,
    ocsp_signing: bool = False,
    valid: tuple[datetime, datetime] | None = None,
) -> Party:
    """A signer, TSA or OCSP responder of the test PKI made for one test: qualified (esign, QSCD)
    unless ``timestamping`` or ``ocsp_signing``."""
    key = ec.generate_private_key(curve) if curve is not None else None
    now = pki.now
    not_before, not_after = valid or (now - timedelta(days=365), now + timedelta(days=2 * 365))
    subject = _name(name, organisation="Testovací Média a.s.", org_id="NTRCZ-47114983")
    party = pki._leaf(
        name,
        subject,
        issuer or (pki.qualified_root if timestamping else pki.qualified_ca),
        not_before,
        not_after,
        qc=None if timestamping or ocsp_signing else ("qct_esign", True),
        timestamping=timestamping,
        key=key,
    )
    if not ocsp_signing:
        return party
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    issuer = issuer or pki.qualified_ca
    builder = (
        x509.CertificateBuilder()
        .subject_name(party.cert.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(party.key.public_key())
        .serial_number(party.cert.serial_number)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    )
    return Party(name, party.key, builder.sign(issuer.key, hashes.SHA256()))


def crl_revoking(pki: TestPKI, issuer: Party, revoked: Party, at: datetime) -> bytes:
    """``issuer``'s CRL with ``revoked`` on it since ``at``."""
    return pki._crl(issuer, [(revoked, at.astimezone(UTC))])


def ocsp_response(
    pki: TestPKI, subject: Party, issuer: Party, *, revoked_at: datetime | None = None, responder: Party | None = None
) -> bytes:
    """A basic OCSP response (DER) about ``subject``, signed by ``responder`` (default: the issuer)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=subject.cert,
        issuer=issuer.cert,
        algorithm=hashes.SHA1(),  # noqa: S303 - the CertID hash most responders use (RFC 5019)
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
        this_update=pki.now - timedelta(minutes=5),
        next_update=pki.now + timedelta(days=7),
        revocation_time=revoked_at,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
    )
    signer = responder or issuer
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
    if responder is not None:
        builder = builder.certificates([responder.cert])
    return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def add_dss(pki: TestPKI, signed: bytes, *, ocsps: list[bytes] = (), crls: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    """Append a DSS with the chain, the given OCSP responses and CRLs (DER)."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(BytesIO(signed), strict=False)
    contents = reader.embedded_regular_signatures[-1].pkcs7_content
    out = BytesIO(signed)
    DocumentSecurityStore.add_dss(
        out,
        contents,
        certs=[pki.qualified_root.asn1_cert, pki.qualified_ca.asn1_cert],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in ocsps],
        crls=[asn1_crl.CertificateList.load(der) for der in crls],
        strict=False,
    )
    return out.getvalue()
