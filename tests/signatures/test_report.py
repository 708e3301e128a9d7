"""The validation report in the terms EU validators use: ETSI EN 319 102-1 indication, PAdES level,
QSCD, the time judged and why, the trusted lists used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.signatures import Reason, Verdict
from tests.signatures.helpers import Validate, accepted, refused
from tests.signatures.pki import TestPKI


def test_a_plain_qualified_signature_is_b_b_judged_at_receipt(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    now = datetime.now(UTC)
    verdict = accepted(validate_pdf(test_pki.sign_pdf(application_pdf), original=application_pdf, received_at=now))
    report = verdict.to_json()["report"]
    assert report["indication"] == "TOTAL_PASSED" and report["sub_indication"] is None
    assert report["pades_level"] == "B-B"
    assert report["qscd_certificate"] is True and report["qscd_trusted_list"] is True
    assert report["judged_at_basis"] == "receipt"
    assert report["judged_at"] == now.isoformat().replace("+00:00", "Z")
    [used] = report["trusted_lists"]
    assert used["territory"] == "CZ" and used["sequence_number"] == 1
    assert used["operator"] == "ČSÚ test scheme operator"


def test_no_qscd_is_reported(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    report = accepted(validate_pdf(test_pki.sign_pdf(application_pdf, "qualified_no_qscd"))).report()
    assert report["qscd_certificate"] is False and report["qscd_trusted_list"] is False


def test_levels_up_to_b_lta(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    stamped = test_pki.sign_pdf(application_pdf, timestamp=True, signing_time=when)
    report = accepted(validate_pdf(stamped, original=application_pdf)).report()
    assert report["pades_level"] == "B-T"
    assert report["judged_at_basis"] == "signature_timestamp"
    assert report["judged_at"] == when.isoformat().replace("+00:00", "Z")
    with_dss = test_pki.add_dss(stamped)
    assert accepted(validate_pdf(with_dss, original=application_pdf)).report()["pades_level"] == "B-LT"
    archived = test_pki.add_document_timestamp(with_dss)
    assert accepted(validate_pdf(archived, original=application_pdf)).report()["pades_level"] == "B-LTA"
    # Validation data without any timestamp is not B-LT (EN 319 142-1 builds B-LT on B-T).
    plain_dss = test_pki.add_dss(test_pki.sign_pdf(application_pdf))
    assert accepted(validate_pdf(plain_dss, original=application_pdf)).report()["pades_level"] == "B-B"


def test_refusals_carry_an_indication_and_a_sub_indication(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    report = refused(validate_pdf(test_pki.sign_pdf(application_pdf, "revoked")), Reason.REVOKED).report()
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")
    untrusted = validate_pdf(test_pki.sign_pdf(application_pdf, "untrusted"))
    assert (untrusted.report()["indication"], untrusted.report()["sub_indication"]) == (
        "INDETERMINATE",
        "NO_CERTIFICATE_CHAIN_FOUND",
    )
    report = refused(validate_pdf(b"%PDF-1.7 nothing"), Reason.MALFORMED_PDF).report()
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "FORMAT_FAILURE")


def test_the_report_survives_storage(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    verdict = accepted(validate_pdf(test_pki.sign_pdf(application_pdf, timestamp=True), original=application_pdf))
    stored = Verdict.from_json(verdict.to_json())
    assert stored.to_json() == verdict.to_json()
