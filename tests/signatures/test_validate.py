"""validate_signed_pdf against the test PKI: every reason code, the limits, several signatures."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection

import pytest

from portal.signatures import Reason, TrustConfig, Verdict, validate_signed_pdf
from portal.signatures.verdict import DOCUMENT_REASONS
from tests.signatures.helpers import Validate, accepted, refused
from tests.signatures.pki import (
    ORGANISATION_IDENTIFIER,
    TestPKI,
    append_info_updates,
    encrypted_pdf,
    sign_pdf,
    unsigned_pdf,
)

# --- accepted ----------------------------------------------------------------------------------------


def test_qualified_signature_bound_to_the_original_is_accepted(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    verdict = accepted(validate_pdf(signed, original=application_pdf))
    report = verdict.accepted_signature
    assert report is not None and report.signer is not None
    assert report.signer.common_name == "Jana Nováková"
    assert report.signer.organisation_identifier == ORGANISATION_IDENTIFIER
    assert report.signer.qualified and report.signer.qc_type == "esign"
    assert report.signer.serial == test_pki.signer("qualified").serial_hex
    assert "CN=ČSÚ Test Qualified Issuing CA" in report.signer.issuer
    assert report.coverage == "entire_file"
    assert report.timestamp is None
    assert verdict.document_sha256 == hashlib.sha256(signed).hexdigest()


def test_advanced_signature_on_a_qualified_certificate_is_accepted(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """No QcSSCD: the key need not sit on a qualified device (zákon 297/2016 Sb., § 6)."""
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf, "qualified_no_qscd"), original=application_pdf))


def test_module_level_sign_pdf_uses_the_session_pki(application_pdf: bytes, validate_pdf: Validate) -> None:
    accepted(validate_pdf(sign_pdf(application_pdf), original=application_pdf))


def test_without_a_trusted_list_the_qc_statements_decide(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    trust = test_pki.trust_config(trusted_lists=())
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf), trust=trust))
    # QCStatements, but from a CA that is not on the list: fine without a list, not with it.
    unlisted = test_pki.sign_pdf(application_pdf, "unlisted_ca")
    accepted(validate_pdf(unlisted, trust=trust))
    refused(validate_pdf(unlisted), Reason.NOT_QUALIFIED)


def test_trusted_list_alone_is_a_trust_anchor(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """No roots configured: the list's CA/QC service certificates are the anchors."""
    trust = test_pki.trust_config(roots=())
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf), trust=trust))
    refused(validate_pdf(test_pki.sign_pdf(application_pdf, "untrusted"), trust=trust), Reason.NOT_TRUSTED)
    refused(
        validate_pdf(test_pki.sign_pdf(application_pdf, "not_qualified"), trust=trust),
        Reason.NOT_TRUSTED,
        Reason.NOT_QUALIFIED,
    )


def test_timestamp_sets_the_signing_time(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    verdict = accepted(validate_pdf(test_pki.sign_pdf(application_pdf, timestamp=True, signing_time=when)))
    report = verdict.accepted_signature
    assert report is not None
    assert report.timestamp == when
    assert report.signing_time == when


def test_validation_data_and_document_timestamps_after_signing_are_allowed(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf, timestamp=True)
    for extended in (
        test_pki.add_dss(signed),
        test_pki.add_document_timestamp(signed),
        test_pki.add_document_timestamp(test_pki.add_dss(signed)),
    ):
        verdict = accepted(validate_pdf(extended, original=application_pdf))
        assert [report.coverage for report in verdict.signatures] == ["entire_revision"]


def test_seal_is_accepted_only_when_allowed(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    sealed = test_pki.sign_pdf(application_pdf, "seal")
    refused(validate_pdf(sealed), Reason.SEAL_NOT_ALLOWED)
    verdict = accepted(validate_pdf(sealed, trust=test_pki.trust_config(allow_seals=True)))
    signer = verdict.accepted_signature.signer  # type: ignore[union-attr]
    assert signer is not None and signer.qc_type == "eseal"


# --- document-level refusals -------------------------------------------------------------------------


def test_unsigned_pdf_is_not_signed(application_pdf: bytes, validate_pdf: Validate) -> None:
    refused(validate_pdf(application_pdf), Reason.NOT_SIGNED)
    # Returning the generated PDF unchanged is not a signature over it.
    refused(validate_pdf(application_pdf, original=application_pdf), Reason.NOT_SIGNED)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"\x00" * 4096,
        b"%PDF-1.7\n",
        b"%PDF-1.7\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.7\n" + bytes(range(256)) * 64,
        b"GIF89a" + b"%PDF-1.7" * 10,
    ],
    ids=["empty", "text", "zeros", "header-only", "no-xref", "broken-xref", "binary", "other-magic"],
)
def test_garbage_is_malformed(data: bytes, validate_pdf: Validate) -> None:
    verdict = refused(validate_pdf(data), Reason.MALFORMED_PDF)
    assert verdict.signatures == ()
    assert verdict.document_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_signed_pdf_is_refused(
    fraction: float, test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    verdict = validate_pdf(signed[: int(len(signed) * fraction)])
    assert not verdict.accepted
    assert set(verdict.reasons) & {Reason.MALFORMED_PDF, Reason.INTEGRITY, Reason.MODIFIED_AFTER_SIGNING}


def test_encrypted_pdf_is_malformed(validate_pdf: Validate) -> None:
    refused(validate_pdf(encrypted_pdf()), Reason.MALFORMED_PDF)


def test_huge_upload_is_refused_unread(validate_pdf: Validate) -> None:
    huge = b"%PDF-1.7\n" + b"0" * (10 * 2**20)
    refused(validate_pdf(huge), Reason.TOO_LARGE)
    refused(validate_pdf(b"%PDF-1.7\n" + b"0" * 2000, max_bytes=1000), Reason.TOO_LARGE)


def test_time_limit_kills_the_worker_and_the_pool_recovers(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    refused(validate_pdf(signed, time_limit=0.001), Reason.TIMEOUT)
    accepted(validate_pdf(signed))


def test_an_answer_read_after_the_limit_is_a_timeout(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine the waiting thread may run again only after the limit, with the worker's answer
    long there: the limit is the caller's, so that is a timeout, whatever the worker took."""
    read_when_ready = Connection.poll

    def read_late(self: Connection, timeout: float | None = 0.0) -> bool:
        ready = read_when_ready(self, None)
        time.sleep((timeout or 0.0) + 0.05)
        return ready

    monkeypatch.setattr(Connection, "poll", read_late)
    refused(validate_pdf(test_pki.sign_pdf(application_pdf), time_limit=0.5), Reason.TIMEOUT)
    monkeypatch.undo()
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf)))


def test_a_slow_file_is_stopped_at_the_time_limit(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """Sixty incremental updates after the signature: a difference analysis each, about 100 ms of
    work; with a limit of 20 ms the worker is killed mid-work."""
    slow = append_info_updates(test_pki.sign_pdf(application_pdf), 60)
    started = time.monotonic()
    refused(validate_pdf(slow, time_limit=0.02), Reason.TIMEOUT)
    assert time.monotonic() - started < 5
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf)))


def test_thousands_of_revisions_are_refused_before_the_work(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    hostile = append_info_updates(test_pki.sign_pdf(application_pdf), 3000)
    started = time.monotonic()
    refused(validate_pdf(hostile), Reason.MALFORMED_PDF)
    assert time.monotonic() - started < 5


def test_concurrent_uploads_share_the_pool(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    from concurrent.futures import ThreadPoolExecutor

    uploads = [test_pki.sign_pdf(application_pdf, name) for name in ("qualified", "revoked", "expired", "qualified")]
    with ThreadPoolExecutor(max_workers=4) as threads:
        verdicts = list(threads.map(validate_pdf, uploads * 2))
    assert [v.accepted for v in verdicts] == [True, False, False, True] * 2
    assert verdicts[1].reasons == (Reason.REVOKED,) and verdicts[2].reasons == (Reason.EXPIRED,)


def test_in_process_validation_gives_the_same_verdict(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf, "revoked")
    now = datetime.now(UTC)
    assert validate_pdf(signed, time_limit=None, received_at=now) == validate_pdf(signed, received_at=now)


def test_naive_datetimes_are_a_programming_error(application_pdf: bytes, test_pki: TestPKI) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_signed_pdf(application_pdf, trust=test_pki.trust_config(), received_at=datetime.now())


# --- integrity and coverage --------------------------------------------------------------------------


def test_bytes_changed_inside_the_signed_range_break_integrity(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = bytearray(test_pki.sign_pdf(application_pdf))
    at = signed.find(b"line 1:")
    signed[at : at + 7] = b"line X:"
    refused(validate_pdf(bytes(signed)), Reason.INTEGRITY)


def test_weak_key_is_refused(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    refused(validate_pdf(test_pki.sign_pdf(application_pdf, "weak_key")), Reason.WEAK_ALGORITHM)


def test_tampered_signature_value_breaks_integrity(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    embedded = PdfFileReader(BytesIO(signed), strict=False).embedded_regular_signatures[0]
    signature_value = embedded.signer_info["signature"].native
    at = max(signed.find(signature_value.hex().encode()), signed.find(signature_value.hex().upper().encode()))
    assert at > 0
    broken = signed[:at] + (b"0" if signed[at : at + 1] != b"0" else b"1") + signed[at + 1 :]
    refused(validate_pdf(broken), Reason.INTEGRITY)


def test_content_changed_after_signing_is_a_modification(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    changed = test_pki.change_page_text(test_pki.sign_pdf(application_pdf))
    verdict = refused(validate_pdf(changed), Reason.MODIFIED_AFTER_SIGNING)
    assert verdict.signatures[0].coverage == "entire_revision"


def test_bytes_appended_after_signing_are_a_modification(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    refused(validate_pdf(signed + b"\n% a trailing comment after the signed revision\n"), Reason.MODIFIED_AFTER_SIGNING)
    # Trailing whitespace is no change.
    accepted(validate_pdf(signed + b"\r\n\n"))


# --- binding to the generated PDF --------------------------------------------------------------------


def test_signature_over_another_document_is_not_bound(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    other = test_pki.sign_pdf(unsigned_pdf(2, title="Another application"))
    refused(validate_pdf(other, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_original_changed_before_signing_is_not_bound(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """The signer's tool rewrote the page content in an update of its own, then signed: the bytes of
    the original are a prefix, but what was signed is not what the portal generated."""
    signed = test_pki.sign_pdf(test_pki.change_page_text(application_pdf))
    assert signed.startswith(application_pdf)
    refused(validate_pdf(signed, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_second_signature_before_ours_keeps_the_binding(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """Another signature added before the accepted one is a signature, not a change of content."""
    twice = test_pki.sign_pdf(test_pki.sign_pdf(application_pdf, "not_qualified"), "qualified")
    verdict = accepted(validate_pdf(twice, original=application_pdf))
    assert [report.reasons for report in verdict.signatures] == [
        (Reason.MODIFIED_AFTER_SIGNING, Reason.NOT_QUALIFIED),
        (),
    ]


# --- trust, qualification, validity, revocation ------------------------------------------------------


def test_unknown_ca_is_not_trusted(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    verdict = refused(validate_pdf(test_pki.sign_pdf(application_pdf, "untrusted")), Reason.NOT_TRUSTED)
    signer = verdict.signatures[0].signer
    assert signer is not None and not signer.qualified
    refused(validate_pdf(test_pki.sign_pdf(application_pdf), trust=TrustConfig()), Reason.NOT_TRUSTED)


@pytest.mark.parametrize("signer_name", ["not_qualified", "no_qc_statements", "unlisted_ca", "withdrawn_ca"])
def test_not_qualified(signer_name: str, test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    verdict = refused(validate_pdf(test_pki.sign_pdf(application_pdf, signer_name)), Reason.NOT_QUALIFIED)
    signer = verdict.signatures[0].signer
    assert signer is not None and not signer.qualified and signer.qc_type is None


def test_qualified_status_is_judged_at_the_time_of_signing(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """The withdrawn CA was "granted" until 60 days ago: a timestamp from 90 days ago proves that the
    signature existed while it was."""
    before = datetime.now(UTC) - timedelta(days=90)
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf, "withdrawn_ca", timestamp=True, signing_time=before)))
    # The signer's own claim of an early time proves nothing.
    refused(validate_pdf(test_pki.sign_pdf(application_pdf, "withdrawn_ca", signing_time=before)), Reason.NOT_QUALIFIED)


def test_expired_certificate(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    refused(validate_pdf(test_pki.sign_pdf(application_pdf, "expired")), Reason.EXPIRED)


def test_revoked_certificate_hard_and_soft(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    revoked = test_pki.sign_pdf(application_pdf, "revoked")
    refused(validate_pdf(revoked), Reason.REVOKED)
    refused(validate_pdf(revoked, trust=test_pki.trust_config(revocation_mode="soft")), Reason.REVOKED)


def test_revoked_after_a_timestamped_signature_is_accepted(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    before_revocation = test_pki.revoked_at - timedelta(days=5)
    signed = test_pki.sign_pdf(application_pdf, "revoked", timestamp=True, signing_time=before_revocation)
    accepted(validate_pdf(signed))


def test_missing_revocation_information_hard_refuses_soft_accepts(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    refused(validate_pdf(signed, trust=test_pki.trust_config(crls=())), Reason.REVOCATION_UNKNOWN)
    accepted(validate_pdf(signed, trust=test_pki.trust_config(crls=(), revocation_mode="soft")))
    no_crl = test_pki.sign_pdf(application_pdf, "no_revocation_info")
    refused(validate_pdf(no_crl), Reason.REVOCATION_UNKNOWN)
    accepted(validate_pdf(no_crl, trust=test_pki.trust_config(revocation_mode="soft")))


def test_a_crl_not_signed_by_the_issuer_does_not_count(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """A CRL naming the issuing CA but signed by another key is ignored: no revocation information."""
    forged = test_pki._crl(dataclasses.replace(test_pki.qualified_ca, key=test_pki.rogue_root.key), [])
    crls = (test_pki.crls["qualified_root"], forged)
    refused(
        validate_pdf(test_pki.sign_pdf(application_pdf), trust=test_pki.trust_config(crls=crls)),
        Reason.REVOCATION_UNKNOWN,
    )


# --- time --------------------------------------------------------------------------------------------


def test_after_deadline(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    """Without a timestamp the receipt is the time judged (the claimed time is the signer's say-so)."""
    now = datetime.now(UTC).replace(microsecond=0)
    signed = test_pki.sign_pdf(application_pdf, signing_time=now - timedelta(hours=2))
    accepted(validate_pdf(signed, deadline=now + timedelta(hours=1), received_at=now))
    refused(validate_pdf(signed, deadline=now - timedelta(hours=1), received_at=now), Reason.AFTER_DEADLINE)
    # The deadline is an exclusive end: received exactly at it is too late.
    refused(validate_pdf(signed, deadline=now, received_at=now), Reason.AFTER_DEADLINE)


def test_timestamp_beats_the_claimed_time(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    yesterday = now - timedelta(days=1)
    backdated = test_pki.sign_pdf(
        application_pdf, signing_time=now - timedelta(days=2), timestamp=True, timestamp_time=now
    )
    verdict = refused(validate_pdf(backdated, deadline=yesterday, received_at=now), Reason.AFTER_DEADLINE)
    assert verdict.signatures[0].signing_time == now
    stamped_early = test_pki.sign_pdf(
        application_pdf, signing_time=now, timestamp=True, timestamp_time=now - timedelta(days=2)
    )
    verdict = accepted(validate_pdf(stamped_early, deadline=yesterday, received_at=now))
    assert verdict.accepted_signature.signing_time == now - timedelta(days=2)  # type: ignore[union-attr]


def test_claimed_time_is_capped_at_the_upload(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    future = test_pki.sign_pdf(application_pdf, signing_time=now + timedelta(days=1))
    verdict = accepted(validate_pdf(future, received_at=now))
    assert verdict.accepted_signature.signing_time == now  # type: ignore[union-attr]
    refused(validate_pdf(future, received_at=now, deadline=now), Reason.AFTER_DEADLINE)


# --- several signatures ------------------------------------------------------------------------------


def test_one_qualifying_signature_among_several_is_enough(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    twice = test_pki.sign_pdf(test_pki.sign_pdf(application_pdf, "untrusted"), "qualified")
    verdict = accepted(validate_pdf(twice))
    assert len(verdict.signatures) == 2
    assert verdict.accepted_signature is verdict.signatures[1]


def test_a_later_signature_counts_as_a_change_for_the_earlier_one(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """Only validation data and document timestamps may follow a signature; another signature's
    revision does not, so the qualified first signature is flagged and the second does not qualify."""
    twice = test_pki.sign_pdf(test_pki.sign_pdf(application_pdf, "qualified"), "not_qualified")
    verdict = validate_pdf(twice)
    assert not verdict.accepted
    assert [set(report.reasons) for report in verdict.signatures] == [
        {Reason.MODIFIED_AFTER_SIGNING},
        {Reason.NOT_QUALIFIED},
    ]


def test_no_signature_qualifies(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    twice = test_pki.sign_pdf(test_pki.sign_pdf(application_pdf, "expired"), "revoked")
    verdict = validate_pdf(twice)
    assert not verdict.accepted
    assert {reason for report in verdict.signatures for reason in report.reasons} >= {Reason.EXPIRED, Reason.REVOKED}


# --- the verdict -------------------------------------------------------------------------------------


def test_verdict_json(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    verdict = validate_pdf(test_pki.sign_pdf(application_pdf, timestamp=True, signing_time=when))
    document = verdict.to_json()
    assert set(document) >= {"accepted", "reasons", "signer", "signing_time", "timestamp", "coverage", "signatures"}
    assert document["accepted"] is True and document["reasons"] == []
    assert set(document["signer"]) >= {"subject", "issuer", "serial", "qualified", "organisation_identifier", "qc_type"}
    assert document["signing_time"] == when.isoformat().replace("+00:00", "Z")
    assert document["timestamp"] == document["signing_time"]
    assert document["coverage"] == "entire_file"
    refusal = validate_pdf(b"nonsense").to_json()
    assert refusal == {
        "accepted": False,
        "reasons": ["malformed_pdf"],
        "signer": None,
        "signing_time": None,
        "timestamp": None,
        "coverage": None,
        "document_sha256": hashlib.sha256(b"nonsense").hexdigest(),
        "signatures": [],
        "report": {
            "indication": "INDETERMINATE",
            "sub_indication": "FORMAT_FAILURE",
            "pades_level": None,
            "qscd_certificate": None,
            "qscd_trusted_list": None,
            "judged_at": None,
            "judged_at_basis": None,
            "trusted_lists": [],
        },
    }


def test_verdict_round_trips_through_json(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    import json

    twice = test_pki.sign_pdf(test_pki.sign_pdf(application_pdf, "expired"), "qualified", timestamp=True)
    for verdict in (validate_pdf(twice), validate_pdf(b"garbage"), validate_pdf(application_pdf)):
        assert Verdict.from_json(json.loads(json.dumps(verdict.to_json()))) == verdict


def test_in_process_validation_inside_a_running_event_loop(test_pki: TestPKI, application_pdf: bytes) -> None:
    import asyncio

    signed = test_pki.sign_pdf(application_pdf)

    async def inside() -> Verdict:
        return validate_signed_pdf(
            signed, trust=test_pki.trust_config(), received_at=datetime.now(UTC), time_limit=None
        )

    accepted(asyncio.run(inside()))


def test_verdict_is_frozen(application_pdf: bytes, validate_pdf: Validate) -> None:
    verdict = validate_pdf(application_pdf)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.accepted = True  # type: ignore[misc]


def test_reason_codes_are_stable() -> None:
    assert {reason.value for reason in Reason} == {
        "malformed_pdf",
        "not_signed",
        "integrity",
        "weak_algorithm",
        "modified_after_signing",
        "not_bound_to_original",
        "not_trusted",
        "not_qualified",
        "expired",
        "revoked",
        "revocation_unknown",
        "seal_not_allowed",
        "after_deadline",
        "too_large",
        "timeout",
    }
    assert set(Reason) >= DOCUMENT_REASONS
    assert Verdict.refuse("x", Reason.TIMEOUT).reasons == (Reason.TIMEOUT,)
