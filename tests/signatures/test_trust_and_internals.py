"""TrustConfig and the trusted list, the hex-string speedup, logging, and the test PKI itself."""

from __future__ import annotations

import io
import logging
import random
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509

from portal.signatures import TrustConfig, TrustConfigError
from portal.signatures.engine import validate_in_process
from portal.signatures.logs import quiet_pyhanko_logging
from portal.signatures.trust import load_trusted_lists
from tests.signatures.pki import SIGNER_NAMES, TestPKI

# --- TrustConfig ---------------------------------------------------------------------------------------


def test_from_files_reads_pem_bundles_der_crls_and_the_list(test_pki: TestPKI) -> None:
    trust = TrustConfig.from_files(
        roots=[test_pki.roots_pem_path],
        trusted_lists=[test_pki.trusted_list_path],
        crls=list(test_pki.crl_paths),
        tl_signers=[test_pki.tl_signer_pem_path],
        allow_seals=True,
        revocation_mode="soft",
    )
    assert trust.roots == test_pki.roots  # both certificates of the bundle, as DER
    assert trust.crls == tuple(test_pki.crls.values())
    assert trust.tl_signers == (test_pki.tl_signer.der,)
    assert trust.allow_seals and trust.revocation_mode == "soft" and not trust.allow_fetching
    assert trust == test_pki.trust_config(allow_seals=True, revocation_mode="soft")
    assert trust.fingerprint == test_pki.trust_config(allow_seals=True, revocation_mode="soft").fingerprint
    assert trust.fingerprint != test_pki.trust_config().fingerprint


def test_trusted_list_signature_is_verified(test_pki: TestPKI) -> None:
    with pytest.raises(TrustConfigError, match="signature not verified"):
        TrustConfig(trusted_lists=(test_pki.build_trusted_list(tamper=True),), tl_signers=(test_pki.tl_signer.der,))
    with pytest.raises(TrustConfigError, match="signature not verified"):
        TrustConfig(
            trusted_lists=(test_pki.build_trusted_list(signer=test_pki.other_tl_signer),),
            tl_signers=(test_pki.tl_signer.der,),
        )
    with pytest.raises(TrustConfigError, match="tl_signers"):
        TrustConfig(trusted_lists=(test_pki.trusted_list_xml,))
    unsigned = test_pki.trusted_list_xml.split(b"<ds:Signature")[0] + b"</TrustServiceStatusList>"
    with pytest.raises(TrustConfigError):
        TrustConfig(trusted_lists=(unsigned,), tl_signers=(test_pki.tl_signer.der,))


def test_trusted_list_content(test_pki: TestPKI) -> None:
    lists = load_trusted_lists((test_pki.trusted_list_xml,), (test_pki.tl_signer.der,))
    names = {cert.subject.native["common_name"] for cert in lists.ca_certificates}
    assert names == {"ČSÚ Test Qualified Issuing CA", "ČSÚ Test Withdrawn Qualified CA", "ČSÚ Test CA Without CRL"}


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"not a certificate", "roots"), (b"\x30\x03\x02\x01\x01", "crls"), (b"", "tl_signers")],
)
def test_unparsable_material_is_a_configuration_error(content: bytes, field: str) -> None:
    with pytest.raises(TrustConfigError):
        TrustConfig(**{field: (content,)})  # type: ignore[arg-type]


def test_bad_files_are_configuration_errors(tmp_path: Path, test_pki: TestPKI) -> None:
    with pytest.raises(TrustConfigError, match="cannot read"):
        TrustConfig.from_files(roots=[tmp_path / "missing.pem"])
    no_certificate = tmp_path / "key.pem"
    no_certificate.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(TrustConfigError, match="no CERTIFICATE"):
        TrustConfig.from_files(roots=[no_certificate])
    with pytest.raises(TrustConfigError, match="revocation_mode"):
        TrustConfig(revocation_mode="sometimes")  # type: ignore[arg-type]


def test_trust_config_is_frozen_and_can_be_rebuilt(test_pki: TestPKI) -> None:
    trust = test_pki.trust_config()
    rebuilt = TrustConfig(**{**trust.__dict__, "allow_seals": True})
    assert rebuilt.allow_seals and rebuilt.roots == trust.roots
    assert trust.with_policy(allow_seals=True) == rebuilt


# --- the hex-string reader -----------------------------------------------------------------------------


def _both_readers(data: bytes) -> tuple[object, object]:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfError

    from portal.signatures import speedups

    speedups.install()
    original = speedups._original
    results = []
    for reader in (original, speedups.read_hex_string_from_stream):
        stream = BytesIO(data)
        try:
            value = reader(stream)
            results.append((bytes(value.original_bytes if hasattr(value, "original_bytes") else value), stream.tell()))
        except PdfError as error:
            results.append((type(error), None))
    assert generic.read_hex_string_from_stream is speedups.read_hex_string_from_stream
    return results[0], results[1]


@pytest.mark.parametrize(
    "data",
    [
        b"<>rest",
        b"<41>",
        b"<414>",
        b"<4 1\n42\r\t43\x0c\x00>tail",
        b"<%comment\n41>x",
        b"<41 zz>",
        b"<4142",
        b"<" + b"ab" * 40000 + b">after",
    ],
)
def test_fast_hex_reader_matches_pyhanko(data: bytes) -> None:
    ours, theirs = _both_readers(data)
    assert ours == theirs


def test_fast_hex_reader_matches_pyhanko_on_random_input() -> None:
    rng = random.Random(4)  # noqa: S311 - test data
    alphabet = b"0123456789abcdefABCDEF \n\r\t>gz%"
    for _ in range(300):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        ours, theirs = _both_readers(b"<" + body + b">")
        assert ours == theirs, body


# --- logging -------------------------------------------------------------------------------------------


def test_pyhanko_refusal_logs_carry_no_traceback(test_pki: TestPKI, application_pdf: bytes) -> None:
    """What reaches the root logger's handlers (stderr, in production) about a refusal: no traceback,
    nothing above debug from pyHanko."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        quiet_pyhanko_logging()
        for name in ("untrusted", "revoked", "expired"):
            signed = test_pki.sign_pdf(application_pdf, name)
            verdict = validate_in_process(
                signed, trust=test_pki.trust_config(), original=None, deadline=None, received_at=datetime.now(UTC)
            )
            assert not verdict.accepted
        validate_in_process(
            b"%PDF-1.7 nonsense", trust=TrustConfig(), original=None, deadline=None, received_at=datetime.now(UTC)
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    output = stream.getvalue()
    assert "Traceback" not in output
    assert "DEBUG portal.signatures.pyhanko WARNING pyhanko" in output  # relayed, one line each
    assert not [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR", "CRITICAL"))]


# --- the test PKI --------------------------------------------------------------------------------------


def test_pki_files_and_signers(test_pki: TestPKI) -> None:
    assert set(test_pki.signers) == set(SIGNER_NAMES)
    for path in (test_pki.roots_pem_path, test_pki.trusted_list_path, test_pki.tl_signer_pem_path, *test_pki.crl_paths):
        assert Path(path).is_file()
    assert test_pki.roots_pem_path.read_bytes().count(b"BEGIN CERTIFICATE") == 2
    config = test_pki.portal_config()
    assert config["PORTAL_TRUST_ROOTS"] == (str(test_pki.roots_pem_path),)
    seal = asn1_x509.Certificate.load(test_pki.signer("seal").der)
    assert seal.subject.native["organization_identifier"] == "NTRCZ-47114983"
