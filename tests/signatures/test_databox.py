"""Import of .zfo data messages (ISDS): CMS verification, trust, safe XML, the envelope's fields."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.signatures.databox import (
    ERROR_CODES,
    MAX_ATTACHMENTS,
    DataboxError,
    DataboxMessage,
    parse_isds_time,
    parse_zfo,
)
from tests.signatures.zfo import (
    DEFAULT_ANNOTATION,
    MINIMAL_PDF,
    NS_DELIVERY,
    NS_ISDS,
    NS_MESSAGE,
    NS_SENT_MESSAGE,
    PRAGUE,
    XmlAttachment,
    default_pki,
    make_certificate,
    make_crl,
    make_isds_pki,
    make_zfo,
    message_xml,
    sign_cms,
    sign_cms_with,
)


@pytest.fixture(scope="module")
def pki():
    return default_pki()


@pytest.fixture(scope="module")
def other_pki():
    return make_isds_pki(root_name="Unrelated Root CA", with_intermediate=False)


def refused(code: str, data: bytes, **kwargs) -> DataboxError:
    with pytest.raises(DataboxError) as info:
        parse_zfo(data, **kwargs)
    assert info.value.code == code, str(info.value)
    return info.value


# --- accepted ---------------------------------------------------------------------------------------


def test_parses_every_field(pki):
    pdf = MINIMAL_PDF + b"\x00\xff binary tail \r\n"
    zfo = make_zfo(
        attachments=[("Žádost 2022.pdf", "application/pdf", pdf)],
        sender_box_id="x7kq2mb",
        message_id="98765432",
        annotation="Žádost <přístup> & IP adresy",
    )
    message = parse_zfo(zfo, trust_roots=[pki.root_pem])

    assert isinstance(message, DataboxMessage)
    assert message.message_id == "98765432"
    assert message.sender_box_id == "x7kq2mb"
    assert message.recipient_box_id == "2gfaasy"
    assert message.annotation == "Žádost <přístup> & IP adresy"
    assert message.delivered_at == datetime(2022, 9, 9, 8, 15, 30, 250_000, tzinfo=UTC)
    assert message.delivered_at.utcoffset() == timedelta(0)
    assert len(message.attachments) == 1
    attachment = message.attachments[0]
    assert attachment.filename == "Žádost 2022.pdf"
    assert attachment.mime_type == "application/pdf"
    assert attachment.data == pdf
    assert "CN=Informační systém datových schránek (test)" in message.signer_subject
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.message_id = "1"  # type: ignore[misc]


def test_the_envelope_is_ber_with_indefinite_lengths_like_isds():
    zfo = make_zfo()
    # The first bytes of every real ZFO: SEQUENCE(indef) OID signedData [0](indef) SEQUENCE(indef) INTEGER 1
    assert base64.b64encode(zfo[:21]).startswith(b"MIAGCSqGSIb3DQEHAqCAMIACAQEx")


def test_der_encoded_envelope_is_accepted_too(pki):
    message = parse_zfo(make_zfo(ber=False), trust_roots=[pki.root_pem])
    assert message.attachments[0].data == MINIMAL_PDF


def test_no_trust_roots_still_accepts_a_valid_signature(other_pki):
    message = parse_zfo(make_zfo(signer=other_pki.signer))
    assert message.message_id


def test_several_attachments_and_a_large_one(pki):
    big = random.Random(4).randbytes(300_000)  # noqa: S311 -- test data
    files = [
        ("zadost.pdf", "application/pdf", MINIMAL_PDF),
        ("priloha.bin", "application/octet-stream", big),
        ("poznamka.txt", "text/plain", "Dobrý den".encode()),
    ]
    message = parse_zfo(make_zfo(attachments=files), trust_roots=[pki.root_pem])
    assert [(a.filename, a.mime_type, a.data) for a in message.attachments] == files


@pytest.mark.parametrize("namespace", [NS_MESSAGE, NS_SENT_MESSAGE, NS_ISDS])
def test_every_wrapper_namespace_is_accepted(pki, namespace):
    """Received (``v20/message``), sent (``v20/SentMessage``) and the plain SOAP answer (``v20``)."""
    message = parse_zfo(make_zfo(wrapper_ns=namespace), trust_roots=[pki.root_pem])
    assert message.recipient_box_id == "2gfaasy" and len(message.chain) == 3


def test_ecdsa_and_pss_signatures_are_verified():
    ec_pki = make_isds_pki(key_type="ec", with_intermediate=False)
    assert parse_zfo(make_zfo(signer=ec_pki.signer), trust_roots=[ec_pki.root_pem]).message_id
    pss = sign_cms(message_xml(), pss=True)
    assert parse_zfo(pss).message_id
    sha512 = sign_cms(message_xml(), hash_algorithm=hashes.SHA512())
    assert parse_zfo(sha512).message_id


def test_trust_roots_as_der_and_as_a_pem_bundle(pki, other_pki):
    zfo = make_zfo()
    assert parse_zfo(zfo, trust_roots=[pki.root_der]).message_id
    bundle = other_pki.root_pem + pki.root_pem
    assert parse_zfo(zfo, trust_roots=[bundle]).message_id


def test_a_configured_intermediate_builds_the_path_but_is_no_anchor(pki):
    """As in an OpenSSL store: only self-signed certificates are anchors; a configured intermediate
    completes the path of a message that does not carry it (the real ISDS messages do not)."""
    intermediate = pki.intermediate.public_bytes(serialization.Encoding.PEM)
    refused("signer_not_trusted", make_zfo(), trust_roots=[intermediate])
    bare = sign_cms(message_xml(), include_chain=False)
    refused("signer_not_trusted", bare, trust_roots=[pki.root_pem])
    message = parse_zfo(bare, trust_roots=[pki.root_pem, intermediate])
    assert message.chain[1:] == (
        "CN=ZFO Test Root CA - Qualified CA (PostSignum-like),O=Test PKI,C=CZ",
        "CN=ZFO Test Root CA,O=Test PKI,C=CZ",
    )


def test_recipient_comparison_and_skipping_it():
    zfo = make_zfo(recipient_box_id="abcdefg")
    assert parse_zfo(zfo, expected_recipient="ABCDEFG").recipient_box_id == "abcdefg"
    assert parse_zfo(zfo, expected_recipient=None).recipient_box_id == "abcdefg"


def test_file_names_lose_directories():
    files = [("../../etc/passwd", "text/plain", b"x"), ("C:\\Users\\a\\b.pdf", "", b"y"), ("", "text/plain", b"z")]
    message = parse_zfo(make_zfo(attachments=files))
    assert [a.filename for a in message.attachments] == ["passwd", "b.pdf", "attachment-3"]
    assert message.attachments[1].mime_type == "application/octet-stream"


# --- delivery time ---------------------------------------------------------------------------------


def test_delivery_time_in_winter_is_converted_from_cet():
    moment = datetime(2022, 12, 23, 23, 59, 59, 999_000, tzinfo=PRAGUE)
    xml = message_xml(delivered_at=moment)
    assert b"<q:dmDeliveryTime>2022-12-23T23:59:59.999+01:00</q:dmDeliveryTime>" in xml
    message = parse_zfo(sign_cms(xml))
    assert message.delivered_at == datetime(2022, 12, 23, 22, 59, 59, 999_000, tzinfo=UTC)
    assert message.delivered_at.tzinfo is UTC


def test_delivery_time_in_summer_is_converted_from_cest():
    moment = datetime(2022, 9, 9, 23, 59, 59, 123_000, tzinfo=PRAGUE)
    xml = message_xml(delivered_at=moment)
    assert b"<q:dmDeliveryTime>2022-09-09T23:59:59.123+02:00</q:dmDeliveryTime>" in xml
    message = parse_zfo(sign_cms(xml))
    assert message.delivered_at == datetime(2022, 9, 9, 21, 59, 59, 123_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-09-09T21:59:59Z", datetime(2022, 9, 9, 21, 59, 59, tzinfo=UTC)),
        ("2022-09-09T21:59:59.5+00:00", datetime(2022, 9, 9, 21, 59, 59, 500_000, tzinfo=UTC)),
        ("2022-09-09T23:59:59.1234567+02:00", datetime(2022, 9, 9, 21, 59, 59, 123_456, tzinfo=UTC)),
        # no offset: Prague local time (summer, then winter)
        ("2022-09-09T23:59:59", datetime(2022, 9, 9, 21, 59, 59, tzinfo=UTC)),
        ("2022-12-23T23:59:59", datetime(2022, 12, 23, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_delivery_time_forms(text, expected):
    assert parse_isds_time(text) == expected
    message = parse_zfo(make_zfo(delivered_at=text))
    assert message.delivered_at == expected


def test_acceptance_time_is_used_when_delivery_time_is_nil():
    zfo = make_zfo(delivered_at=None, accepted_at="2022-09-10T08:00:00.000+02:00")
    assert parse_zfo(zfo).delivered_at == datetime(2022, 9, 10, 6, 0, tzinfo=UTC)


def test_delivery_time_wins_over_acceptance_time():
    zfo = make_zfo(delivered_at="2022-09-09T08:00:00+02:00", accepted_at="2022-09-12T08:00:00+02:00")
    assert parse_zfo(zfo).delivered_at == datetime(2022, 9, 9, 6, 0, tzinfo=UTC)


def test_no_time_at_all_is_not_a_message():
    refused("not_a_message", make_zfo(delivered_at=None, accepted_at=None))


@pytest.mark.parametrize("text", ["yesterday", "2022-09-09", "2022-13-09T10:00:00+02:00", "2022-09-09T10:00:00+2"])
def test_bad_delivery_time_is_malformed(text):
    refused("malformed_xml", make_zfo(delivered_at=text))


# --- signature_invalid -----------------------------------------------------------------------------


def test_tampered_content_is_refused(pki):
    zfo = make_zfo()
    original, forged = "Žádost o přístup".encode(), "Žádost o PŘÍSTUP".encode()
    assert zfo.count(original) == 1 and len(forged) == len(original)
    tampered = zfo.replace(original, forged)
    assert len(tampered) == len(zfo) and tampered != zfo
    refused("signature_invalid", tampered)
    refused("signature_invalid", tampered, trust_roots=[pki.root_pem])


def test_tampered_attachment_is_refused():
    zfo = make_zfo(attachments=[("a.txt", "text/plain", b"1.2.3.4 " * 40)])
    encoded = base64.encodebytes(b"1.2.3.4 " * 40)[:20]
    forged = base64.encodebytes(b"6.6.6.6 " * 40)[:20]
    assert encoded in zfo
    refused("signature_invalid", zfo.replace(encoded, forged, 1))


def _modify_signer_info(zfo: bytes, change) -> bytes:
    info = cms.ContentInfo.load(zfo)
    signer_info = info["content"]["signer_infos"][0]
    change(signer_info)
    return info.dump(force=True)


def test_tampered_signature_is_refused():
    def flip(signer_info):
        signature = bytearray(signer_info["signature"].native)
        signature[-1] ^= 0x01
        signer_info["signature"] = core.OctetString(bytes(signature))

    refused("signature_invalid", _modify_signer_info(make_zfo(ber=False), flip))


def test_tampered_signed_attributes_are_refused():
    def new_time(signer_info):
        for attr in signer_info["signed_attrs"]:
            if attr["type"].native == "signing_time":
                attr["values"] = cms.SetOfTime([cms.Time({"utc_time": datetime(2020, 1, 1, tzinfo=UTC)})])

    refused("signature_invalid", _modify_signer_info(make_zfo(ber=False), new_time))


def test_signature_without_message_digest_is_refused():
    def drop_digest(signer_info):
        attrs = [a for a in signer_info["signed_attrs"] if a["type"].native != "message_digest"]
        signer_info["signed_attrs"] = cms.CMSAttributes(attrs)

    refused("signature_invalid", _modify_signer_info(make_zfo(ber=False), drop_digest))


def test_missing_signer_certificate_is_refused():
    refused("signature_invalid", sign_cms(message_xml(), include_certificates=False))


def test_signer_certificate_of_another_key_is_refused(other_pki):
    """The signer's certificate replaced by another with the same issuer and serial."""
    zfo = make_zfo(ber=False)
    info = cms.ContentInfo.load(zfo)
    signed_data = info["content"]
    other = other_pki.signer.certificate.public_bytes(serialization.Encoding.DER)
    sid = signed_data["signer_infos"][0]["sid"].chosen
    forged = cms.Certificate.load(other).copy()
    forged["tbs_certificate"]["serial_number"] = sid["serial_number"].native
    forged["tbs_certificate"]["issuer"] = sid["issuer"]
    certificates = [forged] + [
        c.chosen for c in signed_data["certificates"] if c.chosen.serial_number != forged.serial_number
    ]
    signed_data["certificates"] = cms.CertificateSet([cms.CertificateChoices({"certificate": c}) for c in certificates])
    refused("signature_invalid", info.dump(force=True))


def test_no_signer_infos_is_refused():
    zfo = make_zfo(ber=False)
    info = cms.ContentInfo.load(zfo)
    info["content"]["signer_infos"] = cms.SignerInfos([])
    refused("signature_invalid", info.dump(force=True))


@pytest.mark.parametrize(("digest", "label"), [("sha1", "SHA-1"), ("md5", "MD5")])
def test_retired_digest_algorithms_are_weak_not_forged(pki, digest, label):
    """A message ISDS signed with SHA-1 (as in 2009-2010) is intact but old: ``weak_algorithm`` naming
    the algorithm, not ``signature_invalid``; the same message with a changed byte is forged."""
    zfo = sign_cms_with(message_xml(), digest_algorithm=digest)
    error = refused("weak_algorithm", zfo, trust_roots=[pki.root_pem])
    assert error.algorithm == label and label in error.message
    assert parse_zfo(sign_cms_with(message_xml(), digest_algorithm="sha256"), trust_roots=[pki.root_pem])
    original = DEFAULT_ANNOTATION.encode()
    tampered = zfo.replace(original, original.upper())
    assert tampered != zfo
    refused("signature_invalid", tampered, trust_roots=[pki.root_pem])


def test_relabelled_digest_algorithm_is_a_changed_file():
    def weaken(signer_info):
        signer_info["digest_algorithm"] = {"algorithm": "sha1"}

    refused("signature_invalid", _modify_signer_info(make_zfo(ber=False), weaken))


def test_a_certificate_signed_with_sha1_on_the_path_is_weak():
    old = make_isds_pki(signer_hash=hashes.SHA1())  # noqa: S303 -- the retired algorithm under test
    zfo = make_zfo(signer=old.signer)
    error = refused("weak_algorithm", zfo, trust_roots=[old.root_pem])
    assert error.algorithm == "SHA-1"
    assert parse_zfo(zfo).message_id  # without roots no path is judged


def test_a_short_rsa_key_is_weak():
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 -- the weakness under test
    pki = default_pki()
    certificate = make_certificate(
        pki.signer.certificate.subject,
        key.public_key(),
        issuer=pki.intermediate,
        issuer_key=pki.intermediate_key,
        ca=False,
    )
    signer = dataclasses.replace(pki.signer, certificate=certificate, key=key)
    error = refused("weak_algorithm", sign_cms(message_xml(), signer))
    assert error.algorithm == "RSA-1024"


# --- signer_not_trusted ----------------------------------------------------------------------------


def test_wrong_root_is_refused(other_pki):
    error = refused("signer_not_trusted", make_zfo(), trust_roots=[other_pki.root_pem])
    assert "Informační systém datových schránek" in error.message


def test_self_made_signer_is_not_trusted(pki, other_pki):
    refused("signer_not_trusted", make_zfo(signer=other_pki.signer), trust_roots=[pki.root_pem])


def test_chain_without_the_intermediate_is_not_trusted(pki):
    zfo = sign_cms(message_xml(), include_chain=False)
    refused("signer_not_trusted", zfo, trust_roots=[pki.root_pem])
    assert parse_zfo(zfo).message_id  # the signature itself is fine


def test_signer_expired_at_signing_time_is_not_trusted():
    now = datetime.now(UTC)
    expired = make_isds_pki(signer_not_before=now - timedelta(days=30), signer_not_after=now - timedelta(days=1))
    zfo = make_zfo(signer=expired.signer)
    refused("signer_not_trusted", zfo, trust_roots=[expired.root_pem])


def test_without_signed_attributes_the_signature_covers_the_content(pki):
    recent = datetime.now(UTC) - timedelta(days=1)
    zfo = sign_cms(message_xml(delivered_at=recent), signed_attributes=False)
    info = cms.ContentInfo.load(zfo)
    assert not info["content"]["signer_infos"][0]["signed_attrs"]
    assert parse_zfo(zfo, trust_roots=[pki.root_pem]).delivered_at == recent.replace(
        microsecond=recent.microsecond // 1000 * 1000
    )

    original = DEFAULT_ANNOTATION.encode()
    tampered = zfo.replace(original, original.upper())
    assert tampered != zfo and len(tampered) == len(zfo)
    refused("signature_invalid", tampered)


def test_without_signing_time_the_chain_must_be_valid_at_delivery(pki):
    """No signingTime attribute: the certificates are checked at the delivery time instead (the test
    PKI's certificates start a year ago, so a delivery in 2022 predates them)."""
    zfo = sign_cms(message_xml(delivered_at=datetime(2022, 9, 9, 10, 0, tzinfo=PRAGUE)), signed_attributes=False)
    refused("signer_not_trusted", zfo, trust_roots=[pki.root_pem])
    assert parse_zfo(zfo).message_id  # without roots there is no chain to check


def test_bad_trust_root_is_a_configuration_error():
    with pytest.raises(ValueError, match="trust root is not a certificate") as info:
        parse_zfo(make_zfo(), trust_roots=[b"not a certificate"])
    assert not isinstance(info.value, DataboxError)


# --- not_cms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x30",
        b"\x30\x80",
        MINIMAL_PDF,
        b"<?xml version='1.0'?><q:MessageDownloadResponse/>",
        bytes(range(256)),
    ],
)
def test_not_cms(data):
    refused("not_cms", data)


@pytest.mark.parametrize("ber", [True, False])
def test_truncated_is_not_cms(ber):
    zfo = make_zfo(ber=ber)
    for cut in (1, 10, len(zfo) // 3, len(zfo) // 2, len(zfo) - 2, len(zfo) - 1):
        refused("not_cms", zfo[:cut])


def test_trailing_garbage_is_not_cms():
    refused("not_cms", make_zfo(ber=False) + b"\x00extra")


def test_other_asn1_structures_are_not_cms(pki):
    refused("not_cms", pki.root_der)
    refused("not_cms", cms.ContentInfo({"content_type": "data", "content": b"<x/>"}).dump())


def test_detached_signature_is_not_cms():
    zfo = make_zfo(ber=False)
    info = cms.ContentInfo.load(zfo)
    info["content"]["encap_content_info"] = cms.ContentInfo({"content_type": "data"})
    refused("not_cms", info.dump(force=True))


# --- not_a_message ---------------------------------------------------------------------------------


def test_other_xml_is_not_a_message():
    refused("not_a_message", sign_cms(b"<html><body>Hello</body></html>"))
    refused("not_a_message", sign_cms(b'<MessageDownloadResponse xmlns="urn:other"><a/></MessageDownloadResponse>'))


def test_delivery_receipt_is_not_a_message():
    receipt = (
        f'<q:GetDeliveryInfoResponse xmlns:q="{NS_DELIVERY}" xmlns:p="{NS_ISDS}"><q:dmDelivery>'
        "<p:dmDm><p:dmID>1721</p:dmID><p:dbIDSender>ximacm6</p:dbIDSender>"
        "<p:dbIDRecipient>2gfaasy</p:dbIDRecipient></p:dmDm>"
        "<q:dmDeliveryTime>2022-09-09T10:00:00+02:00</q:dmDeliveryTime>"
        "</q:dmDelivery></q:GetDeliveryInfoResponse>"
    ).encode()
    refused("not_a_message", sign_cms(receipt))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<p:dbIDRecipient>2gfaasy</p:dbIDRecipient>", b""),
        (b"<p:dbIDSender>x7kq2mb</p:dbIDSender>", b"<p:dbIDSender></p:dbIDSender>"),
        (b"<p:dbIDSender>x7kq2mb</p:dbIDSender>", b"<p:dbIDSender>not a box</p:dbIDSender>"),
        (b"<p:dmID>1234567890</p:dmID>", b"<p:dmID>abc</p:dmID>"),
        (b"<p:dmID>1234567890</p:dmID>", b"<p:dmID>1</p:dmID><p:dmID>2</p:dmID>"),
        (b"<p:dmDm>", b'<p:dmDm xmlns:p="urn:not-isds">'),
        (b"<p:dbIDRecipient>2gfaasy", b"<p:dbIDRecipient>2gfaasy</p:dbIDRecipient><p:dbIDRecipient>2gfaasy"),
    ],
)
def test_incomplete_envelope_is_not_a_message(old, new):
    xml = message_xml()
    assert old in xml
    refused("not_a_message", sign_cms(xml.replace(old, new, 1)))


def test_attachment_without_content_is_not_a_message():
    xml = message_xml(attachments=[("a.txt", "text/plain", b"abc")])
    xml = xml.replace(b"<p:dmEncodedContent>YWJj</p:dmEncodedContent>", b"")
    refused("not_a_message", sign_cms(xml))


def test_xml_content_attachment_is_read():
    xml = message_xml(attachments=[("a.txt", "text/plain", b"abc")])
    xml = xml.replace(
        b"<p:dmEncodedContent>YWJj</p:dmEncodedContent>",
        b"<p:dmXMLContent><form><ip>192.0.2.1</ip></form></p:dmXMLContent>",
    )
    message = parse_zfo(sign_cms(xml))
    attachment = message.attachments[0]
    assert attachment.data == b"<form><ip>192.0.2.1</ip></form>"
    assert attachment.kind == "xml" and attachment.mime_type == "text/plain"


# --- malformed_xml ---------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<q:MessageDownloadResponse xmlns:q="http://isds.czechpoint.cz/v20/message">&lol2;</q:MessageDownloadResponse>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<q:MessageDownloadResponse xmlns:q="http://isds.czechpoint.cz/v20/message">&xxe;</q:MessageDownloadResponse>"""


@pytest.mark.parametrize(
    "content",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        b'<?xml version="1.0"?>\n<!DOCTYPE q:MessageDownloadResponse>\n<q:MessageDownloadResponse/>',
        b"not xml at all",
        b"%PDF-1.7 binary \x00\xff",
        b"<unclosed>",
        b"",
    ],
)
def test_dtd_entities_and_broken_xml_are_malformed(content):
    refused("malformed_xml", sign_cms(content))


def test_dtd_in_a_real_message_is_malformed():
    xml = message_xml()
    xml = xml.replace(b"?>\n", b'?>\n<!DOCTYPE x [<!ENTITY a "Praha">]>\n', 1).replace(
        DEFAULT_ANNOTATION.encode(), b"&a;"
    )
    refused("malformed_xml", sign_cms(xml))


def test_bad_base64_attachment_is_malformed():
    xml = message_xml(attachments=[("a.txt", "text/plain", b"abc")])
    refused("malformed_xml", sign_cms(xml.replace(b">YWJj<", b">YW*j<")))


# --- wrong_recipient -------------------------------------------------------------------------------


def test_wrong_recipient_is_refused(pki):
    zfo = make_zfo(recipient_box_id="abcdefg")
    error = refused("wrong_recipient", zfo, trust_roots=[pki.root_pem])
    assert "abcdefg" in error.message


def test_custom_expected_recipient():
    refused("wrong_recipient", make_zfo(), expected_recipient="zzzzzzz")


# --- too_large -------------------------------------------------------------------------------------


def test_oversized_file_is_refused_before_parsing():
    zfo = make_zfo(attachments=[("big.pdf", "application/pdf", MINIMAL_PDF * 20)])
    refused("too_large", zfo, max_bytes=len(zfo) - 1)
    assert parse_zfo(zfo, max_bytes=len(zfo)).message_id
    refused("too_large", b"\x00" * 101, max_bytes=100)  # the size is checked before anything else


def test_too_many_attachments_is_refused():
    files = [(f"f{i}.txt", "text/plain", b"x") for i in range(MAX_ATTACHMENTS + 1)]
    refused("too_large", make_zfo(attachments=files))
    assert len(parse_zfo(make_zfo(attachments=files[:MAX_ATTACHMENTS])).attachments) == MAX_ATTACHMENTS


def test_too_many_elements_is_refused():
    xml = message_xml().replace(b"</p:dmDm>", b"<p:x/>" * 6000 + b"</p:dmDm>")
    refused("too_large", sign_cms(xml))


# --- robustness ------------------------------------------------------------------------------------


def test_errors_carry_stable_codes():
    assert {
        "not_cms",
        "signature_invalid",
        "weak_algorithm",
        "signer_not_trusted",
        "revoked",
        "not_a_message",
        "wrong_recipient",
        "malformed_xml",
        "too_large",
    } == ERROR_CODES
    error = DataboxError("not_cms", "nope")
    assert isinstance(error, ValueError)
    assert error.code == "not_cms" and str(error) == "not_cms: nope"
    with pytest.raises(ValueError, match="unknown data-box error code 'made_up'"):
        DataboxError("made_up", "x")


@pytest.mark.parametrize("ber", [True, False])
def test_random_corruption_never_escapes_as_another_exception(pki, ber):
    zfo = make_zfo(ber=ber)
    rng = random.Random(20220909)  # noqa: S311 -- reproducible corruption
    for _ in range(300):
        corrupted = bytearray(zfo)
        for _ in range(rng.randint(1, 3)):
            corrupted[rng.randrange(len(corrupted))] ^= 1 << rng.randrange(8)
        try:
            message = parse_zfo(bytes(corrupted), trust_roots=[pki.root_pem])
        except DataboxError as error:
            assert error.code in ERROR_CODES
        else:
            # a flip outside everything signed (e.g. in the unsigned digestAlgorithms set) may pass,
            # but then what was read is exactly what was signed
            assert message.attachments[0].data == MINIMAL_PDF
            assert message.annotation == DEFAULT_ANNOTATION


def test_reading_a_data_message_first_leaves_later_signatures_working() -> None:
    """asn1crypto freezes its CMS attribute names at the first attribute parsed; a worker that read a data
    message before it signed a permit failed on ``signing_certificate_v2``. A fresh interpreter, since this
    one has long imported everything."""
    code = (
        "import portal.signatures.databox\n"
        "from asn1crypto import cms\n"
        "cms.CMSAttributeType('signing_time')\n"
        "print(cms.CMSAttributeType('signing_certificate_v2').dotted)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "1.2.840.113549.1.9.16.2.47"


# --- real messages from the data-box test environment (tests/data/databox/MANIFEST.md) --------------

REAL = Path(__file__).resolve().parents[1] / "data" / "databox"
POSTSIGNUM = [
    (REAL / name).read_bytes()
    for name in (
        "postsignum_qca_root.pem",
        "postsignum_qca2_root.pem",
        "postsignum_qca_sub.pem",
        "postsignum_qca2_sub.pem",
        "postsignum_qca3_sub.pem",
    )
]
ISDS_TEST_SIGNER = (
    "serialNumber=S91490,CN=Informační systém datových schránek - zkušební prostředí,"
    "O=Ministerstvo vnitra České republiky [IČ 00007064]"
)
POSTSIGNUM_PATH = (
    "CN=PostSignum Qualified CA 2,O=Česká pošta\\, s.p. [IČ 47114983],C=CZ",
    "CN=PostSignum Root QCA 2,O=Česká pošta\\, s.p. [IČ 47114983],C=CZ",
)
TEXT_FILES = [("test_01.txt", b"test 01\n"), ("test_02.txt", b"test 02\n")]


def read_real(name: str, **kwargs) -> DataboxMessage:
    return parse_zfo((REAL / name).read_bytes(), trust_roots=POSTSIGNUM, expected_recipient=None, **kwargs)


@pytest.mark.parametrize(
    ("name", "message_id", "delivered_at", "signing_time"),
    [
        (
            "DDZ_3401761.zfo",
            "3401761",
            datetime(2015, 3, 2, 11, 2, 27, 683_000, tzinfo=UTC),  # 12:02:27.683+01:00
            datetime(2015, 3, 2, 11, 3, 8, tzinfo=UTC),
        ),
        (
            "DZ_6452235.zfo",
            "6452235",
            datetime(2018, 4, 25, 15, 26, 34, 400_000, tzinfo=UTC),  # 17:26:34.400+02:00
            datetime(2018, 4, 25, 15, 28, tzinfo=UTC),
        ),
    ],
)
def test_real_messages_are_read_and_chained_to_postsignum_at_their_signing_time(
    name, message_id, delivered_at, signing_time
):
    message = read_real(name)
    assert message.message_id == message_id
    assert (message.sender_box_id, message.recipient_box_id) == ("qrdae26", "uxidq2y")
    assert message.delivered_at == delivered_at
    assert message.signing_time == signing_time and message.validated_at == signing_time
    assert [(a.filename, a.data, a.kind) for a in message.attachments] == [(f, d, "file") for f, d in TEXT_FILES]
    assert all(a.mime_type == "application/octet-stream" for a in message.attachments)  # dmMimeType=""
    assert message.recipient_name == "Ministerstvo hloupé chůze"  # Czech text in UTF-8
    assert message.signer_subject.startswith(ISDS_TEST_SIGNER)
    assert message.chain == (message.signer_subject, *POSTSIGNUM_PATH)
    assert message.annotation == f"test {signing_time:%Y-%m-%d} 001"
    # BER with indefinite lengths, as ISDS writes it
    assert (REAL / name).read_bytes()[:4] == b"\x30\x80\x06\x09"


def test_the_sent_message_is_in_the_sent_namespace_and_names_the_organisation():
    assert NS_SENT_MESSAGE.encode() in (REAL / "DZ_6452235.zfo").read_bytes()
    message = read_real("DZ_6452235.zfo")
    assert "organizationIdentifier=NTRCZ-00007064" in message.signer_subject


def test_real_messages_are_judged_at_their_time_not_today():
    """The ISDS certificates expired years ago: judged now, the path is no longer valid."""
    error = refused(
        "signer_not_trusted",
        (REAL / "DDZ_3401761.zfo").read_bytes(),
        trust_roots=POSTSIGNUM,
        expected_recipient=None,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert "not valid at 2026-01-01" in error.message


def test_real_messages_need_the_postsignum_roots():
    refused("signer_not_trusted", (REAL / "DDZ_3401761.zfo").read_bytes(), trust_roots=[default_pki().root_pem])
    # the intermediates alone are no anchor
    refused("signer_not_trusted", (REAL / "DDZ_3401761.zfo").read_bytes(), trust_roots=POSTSIGNUM[2:])


def test_the_real_delivery_receipt_is_not_a_message():
    error = refused("not_a_message", (REAL / "DD_6452235.zfo").read_bytes(), trust_roots=POSTSIGNUM)
    assert "delivery receipt" in error.message


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("DDZ_3401761.zfo", b"test 2015-03-02 001", b"test 2015-03-02 002"),
        ("DZ_6452235.zfo", b"<p:dbIDRecipient>uxidq2y<", b"<p:dbIDRecipient>2gfaasy<"),
    ],
)
def test_a_changed_byte_in_a_real_message_is_refused(name, old, new):
    data = (REAL / name).read_bytes()
    assert data.count(old) == 1
    refused("signature_invalid", data.replace(old, new), trust_roots=POSTSIGNUM)


def test_a_changed_byte_in_the_signed_attributes_of_a_real_message_is_refused():
    data = bytearray((REAL / "DDZ_3401761.zfo").read_bytes())
    position = bytes(data).index(b"150302110308Z")  # the signingTime, UTCTime
    data[position + 11] ^= 0x01
    refused("signature_invalid", bytes(data), trust_roots=POSTSIGNUM)


def test_the_manifest_stays_beside_the_real_messages():
    manifest = (REAL / "MANIFEST.md").read_text(encoding="utf-8")
    for name in ("DDZ_3401761.zfo", "DZ_6452235.zfo", "DD_6452235.zfo", "postsignum_qca2_root.pem"):
        assert name in manifest and (REAL / name).is_file()


def test_reading_real_messages_writes_no_warning():
    """cryptography warned (UserWarning) about the over-long PostSignum organisation name on stderr."""
    code = (
        "import warnings, sys\n"
        "warnings.simplefilter('error')\n"
        "from pathlib import Path\n"
        "from portal.signatures.databox import parse_zfo\n"
        f"folder = Path({str(REAL)!r})\n"
        "roots = [p.read_bytes() for p in sorted(folder.glob('*.pem'))]\n"
        "for name in ('DDZ_3401761.zfo', 'DZ_6452235.zfo'):\n"
        "    print(parse_zfo((folder / name).read_bytes(), trust_roots=roots, expected_recipient=None).message_id)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.split() == ["3401761", "6452235"] and done.stderr == ""


# --- message shapes made with the test PKI ----------------------------------------------------------


def test_inline_xml_attachments_with_several_siblings_are_kept_as_signed(pki):
    fragment = (
        '<f:zadost xmlns:f="urn:example:form"><f:ip>192.0.2.1</f:ip></f:zadost>\n'
        '<f:priloha xmlns:f="urn:example:form" poznamka="a &gt; b">Čeština &amp; XML</f:priloha>'
    ).encode()
    files = [
        XmlAttachment("formular.xml", fragment),
        ("zadost.pdf", "application/pdf", MINIMAL_PDF),
        XmlAttachment("druhy.xml", b"<a/><b/>", mime_type="text/xml"),
    ]
    message = parse_zfo(make_zfo(attachments=files), trust_roots=[pki.root_pem])
    first, pdf, second = message.attachments
    assert (first.kind, first.mime_type, first.data) == ("xml", "application/xml", fragment)
    assert first.sha256 == hashlib.sha256(fragment).hexdigest() and first.size == len(fragment)
    assert (pdf.kind, pdf.data) == ("file", MINIMAL_PDF)
    assert (second.kind, second.mime_type, second.data) == ("xml", "text/xml", b"<a/><b/>")


def test_inline_xml_attachment_without_an_element_is_not_a_message():
    refused("not_a_message", make_zfo(attachments=[XmlAttachment("prazdny.xml", b"jen text")]))


def test_an_envelope_without_files_is_not_a_message():
    xml = message_xml()
    start, end = xml.index(b"      <p:dmFiles>"), xml.index(b"</p:dmFiles>\n") + len(b"</p:dmFiles>\n")
    error = refused("not_a_message", sign_cms(xml[:start] + xml[end:]))
    assert "envelope" in error.message


def test_a_revoked_signer_is_refused_only_when_revoked_before_signing():
    """Revocation is checked against the configured CRLs at the signing time; a CRL published later
    counts, and a revocation after the message was signed does not undo it."""
    now = datetime.now(UTC)
    revocable = make_isds_pki(signer_crl_url="http://crl.example.test/isds.crl")
    zfo = make_zfo(signer=revocable.signer)
    serial = revocable.signer.certificate.serial_number
    issuer, key = revocable.intermediate, revocable.intermediate_key
    before = make_crl(issuer, key, [(serial, now - timedelta(days=1))], at=now + timedelta(days=1))
    refused("revoked", zfo, trust_roots=[revocable.root_pem], crls=[before])
    after = make_crl(issuer, key, [(serial, now + timedelta(hours=1))], at=now + timedelta(days=1))
    assert parse_zfo(zfo, trust_roots=[revocable.root_pem], crls=[after]).message_id
    pem = serialization.Encoding.PEM
    before_pem = x509.load_der_x509_crl(before).public_bytes(pem)
    refused("revoked", zfo, trust_roots=[revocable.root_pem], crls=[before_pem])


def test_to_json_has_the_inspected_facts(pki):
    message = parse_zfo(make_zfo(), trust_roots=[pki.root_pem])
    data = message.to_json()
    assert data["accepted"] is True
    assert data["delivered_at"] == "2022-09-09T08:15:30.250000Z"
    assert data["chain"] == list(message.chain) and len(data["chain"]) == 3
    assert data["attachments"] == [
        {
            "filename": "zadost.pdf",
            "mime_type": "application/pdf",
            "size": len(MINIMAL_PDF),
            "sha256": hashlib.sha256(MINIMAL_PDF).hexdigest(),
            "kind": "file",
        }
    ]


def test_random_corruption_of_a_real_message_never_escapes_as_another_exception():
    data = (REAL / "DZ_6452235.zfo").read_bytes()
    expected = read_real("DZ_6452235.zfo")
    rng = random.Random(20180425)  # noqa: S311 -- reproducible corruption
    codes = set()
    for _ in range(120):
        corrupted = bytearray(data)
        corrupted[rng.randrange(len(corrupted))] ^= 1 << rng.randrange(8)
        try:
            message = parse_zfo(bytes(corrupted), trust_roots=POSTSIGNUM, expected_recipient=None)
        except DataboxError as error:
            codes.add(error.code)
        else:  # a flip outside what is signed (the unsigned timestamp, say): what was read is what was signed
            assert message == expected
    assert {"not_cms", "signature_invalid"} <= codes
