"""Attacks a validator must refuse, and honest long-term and ECDSA/PSS files it must accept.

Each attack is built with the trusted, qualified test PKI, so a refusal comes from detecting the
attack, not from distrust (see tests/signatures/attacks.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from portal.signatures import Reason
from tests.signatures import attacks
from tests.signatures.helpers import Validate, accepted, refused
from tests.signatures.pki import TestPKI

# --- the ByteRange gap -------------------------------------------------------------------------------


def test_contents_as_a_literal_string_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """Signature wrapping: the gap holds a literal /Contents and other bytes, not one hex string."""
    signed = test_pki.sign_pdf(application_pdf)
    accepted(validate_pdf(signed, original=application_pdf))
    refused(validate_pdf(attacks.literal_contents(signed), original=application_pdf), Reason.MODIFIED_AFTER_SIGNING)


# --- strict reading ----------------------------------------------------------------------------------


def test_object_redefined_in_a_body_but_not_in_its_xref_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    refused(
        validate_pdf(attacks.unlisted_redefinition(signed), original=application_pdf), Reason.MODIFIED_AFTER_SIGNING
    )
    with_dss = test_pki.add_dss(signed)
    accepted(validate_pdf(with_dss, original=application_pdf))
    refused(
        validate_pdf(attacks.unlisted_redefinition(with_dss), original=application_pdf), Reason.MODIFIED_AFTER_SIGNING
    )


def test_unlisted_redefinition_behind_a_wrong_startxref_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    attack = attacks.unlisted_redefinition(signed, startxref_offset=-3)
    refused(validate_pdf(attack, original=application_pdf), Reason.MALFORMED_PDF)
    attack = attacks.unlisted_redefinition(test_pki.add_dss(signed), startxref_offset=-3)
    refused(validate_pdf(attack, original=application_pdf), Reason.MALFORMED_PDF)


def test_a_wrong_startxref_is_malformed(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    signed = test_pki.add_dss(test_pki.sign_pdf(application_pdf))
    refused(validate_pdf(attacks.wrong_startxref(signed), original=application_pdf), Reason.MALFORMED_PDF)


def test_data_after_the_last_eof_is_a_modification(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    refused(validate_pdf(attacks.trailing_object(signed)), Reason.MODIFIED_AFTER_SIGNING)
    with_dss = test_pki.add_dss(signed)
    refused(validate_pdf(attacks.trailing_object(with_dss)), Reason.MODIFIED_AFTER_SIGNING)


# --- widgets after signing ---------------------------------------------------------------------------


def test_document_timestamp_in_a_page_covering_widget_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    accepted(validate_pdf(test_pki.add_document_timestamp(signed), original=application_pdf))
    overlay = attacks.add_signature_field(signed, "Overlay")
    attack = test_pki.add_document_timestamp(overlay, field_name="Overlay")
    refused(validate_pdf(attack, original=application_pdf), Reason.MODIFIED_AFTER_SIGNING)


def test_document_timestamp_with_garbage_contents_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    stamped = test_pki.add_document_timestamp(test_pki.sign_pdf(application_pdf))
    refused(validate_pdf(attacks.garble_last_contents(stamped), original=application_pdf), Reason.INTEGRITY)


def test_document_timestamp_from_an_untrusted_tsa_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    rogue_tsa = attacks.extra_party(test_pki, "Rogue TSA", issuer=test_pki.rogue_root, timestamping=True)
    stamped = test_pki.add_document_timestamp(test_pki.sign_pdf(application_pdf), tsa=rogue_tsa)
    refused(validate_pdf(stamped, original=application_pdf), Reason.NOT_TRUSTED)


def test_document_timestamp_from_a_revoked_tsa_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    tsa = attacks.extra_party(test_pki, "Revoked Doc TSA", timestamping=True)
    crls = dict(test_pki.crls)
    crls["qualified_root"] = attacks.crl_revoking(
        test_pki, test_pki.qualified_root, tsa, test_pki.now - timedelta(days=2)
    )
    trust = test_pki.trust_config(crls=tuple(crls.values()))
    stamped = test_pki.add_document_timestamp(test_pki.sign_pdf(application_pdf), tsa=tsa)
    refused(validate_pdf(stamped, original=application_pdf, trust=trust), Reason.REVOKED)


def test_javascript_added_to_the_signature_widget_after_signing_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf)
    attack = attacks.add_javascript_to_signature_widget(signed)
    refused(validate_pdf(attack, original=application_pdf), Reason.MODIFIED_AFTER_SIGNING)


# --- widgets before signing --------------------------------------------------------------------------


def test_an_empty_visible_field_over_the_page_before_signing_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    prepared = attacks.add_signature_field(application_pdf, "Empty")
    refused(validate_pdf(test_pki.sign_pdf(prepared), original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_the_signers_own_widget_over_the_page_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    signed = test_pki.sign_pdf(application_pdf, box=(0, 0, 595, 842))
    refused(validate_pdf(signed, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_a_small_visible_signature_away_from_the_text_is_accepted(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """The test PDF's text ends about 230 pt above the bottom edge: a stamp below it is fine."""
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf, box=(350, 40, 545, 100)), original=application_pdf))


def test_widget_javascript_in_the_signed_revision_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    prepared = attacks.add_signature_field(application_pdf, "Sig", box=(0, 0, 0, 0), appearance=None, javascript=True)
    signed = test_pki.sign_pdf(prepared, field_name="Sig")
    refused(validate_pdf(signed, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


# --- time --------------------------------------------------------------------------------------------


def test_a_timestamp_from_a_tsa_revoked_before_the_token_does_not_count(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """The revoked signer (revoked 30 days ago) cannot be revived by a token dated 35 days ago from a
    TSA revoked 40 days ago; nor can such a token carry a late signature before the deadline."""
    tsa = attacks.extra_party(test_pki, "Revoked Signature TSA", timestamping=True)
    crls = dict(test_pki.crls)
    crls["qualified_root"] = attacks.crl_revoking(
        test_pki, test_pki.qualified_root, tsa, test_pki.now - timedelta(days=40)
    )
    trust = test_pki.trust_config(crls=tuple(crls.values()))
    early = test_pki.now - timedelta(days=35)
    revived = test_pki.sign_pdf(application_pdf, "revoked", timestamp=True, signing_time=early, tsa=tsa)
    verdict = refused(validate_pdf(revived, trust=trust), Reason.REVOKED)
    assert verdict.signatures[0].timestamp is None
    now = datetime.now(UTC)
    late = test_pki.sign_pdf(application_pdf, timestamp=True, signing_time=early, tsa=tsa)
    refused(validate_pdf(late, trust=trust, deadline=now - timedelta(days=1), received_at=now), Reason.AFTER_DEADLINE)
    # The same token from the honest TSA counts.
    honest = test_pki.sign_pdf(application_pdf, timestamp=True, signing_time=early)
    accepted(validate_pdf(honest, trust=trust, deadline=now - timedelta(days=1), received_at=now))


def test_a_claimed_signing_time_before_the_certificate_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    not_before = test_pki.signer("qualified").cert.not_valid_before_utc
    signed = test_pki.sign_pdf(application_pdf, signing_time=not_before - timedelta(days=10))
    refused(validate_pdf(signed, original=application_pdf), Reason.EXPIRED)


def test_without_a_trusted_timestamp_the_deadline_is_judged_at_receipt(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    signed = test_pki.sign_pdf(application_pdf, signing_time=now - timedelta(hours=2))
    verdict = refused(validate_pdf(signed, deadline=now - timedelta(hours=1), received_at=now), Reason.AFTER_DEADLINE)
    assert verdict.signatures[0].signing_time == now
    accepted(validate_pdf(signed, deadline=now - timedelta(hours=1), received_at=now - timedelta(hours=1, seconds=1)))


# --- honest files ------------------------------------------------------------------------------------


def test_b_lt_with_the_crls_in_the_dss_is_accepted_without_configured_crls(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    trust = test_pki.trust_config(crls=())
    signed = test_pki.sign_pdf(application_pdf)
    refused(validate_pdf(signed, trust=trust), Reason.REVOCATION_UNKNOWN)
    accepted(validate_pdf(test_pki.add_dss(signed), trust=trust, original=application_pdf))


def test_b_lt_with_the_crls_in_the_cms_is_accepted_without_configured_crls(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    trust = test_pki.trust_config(crls=())
    signed = test_pki.sign_pdf(application_pdf, cms_revinfo=True)
    accepted(validate_pdf(signed, trust=trust, original=application_pdf))


def test_a_revoked_entry_in_the_dss_is_revoked(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    trust = test_pki.trust_config(crls=())
    signed = test_pki.add_dss(test_pki.sign_pdf(application_pdf, "revoked"))
    refused(validate_pdf(signed, trust=trust), Reason.REVOKED)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()], ids=["P-256", "P-384"])
def test_ecdsa_signers_are_accepted(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate, curve: ec.EllipticCurve
) -> None:
    party = attacks.extra_party(test_pki, f"ECDSA {curve.name}", curve=curve)
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf, party=party), original=application_pdf))


def test_rsa_pss_signer_is_accepted(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    accepted(validate_pdf(test_pki.sign_pdf(application_pdf, pss=True), original=application_pdf))


def test_a_catalog_change_beyond_the_version_is_still_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """/Version may be raised by a signer; /OpenAction may not be added."""
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(application_pdf), strict=False)
    writer.root[generic.pdf_name("/Version")] = generic.pdf_name("/2.0")
    writer.root[generic.pdf_name("/OpenAction")] = generic.DictionaryObject(
        {
            generic.pdf_name("/S"): generic.pdf_name("/JavaScript"),
            generic.pdf_name("/JS"): generic.TextStringObject("1"),
        }
    )
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    signed = test_pki.sign_pdf(out.getvalue())
    refused(validate_pdf(signed, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_a_small_stamp_over_the_text_is_refused(
    test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate
) -> None:
    """Small enough, but over the first lines of the page (the test PDF writes from y = 780 down)."""
    signed = test_pki.sign_pdf(application_pdf, box=(50, 700, 250, 760))
    refused(validate_pdf(signed, original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)
    prepared = attacks.add_signature_field(application_pdf, "Small", box=(40, 740, 240, 790))
    refused(validate_pdf(test_pki.sign_pdf(prepared), original=application_pdf), Reason.NOT_BOUND_TO_ORIGINAL)


def test_ocsp_responses_in_the_dss_count(test_pki: TestPKI, application_pdf: bytes, validate_pdf: Validate) -> None:
    """The leaf's status from an OCSP response of its CA (or of a responder the CA certified), the CA's
    from the root's CRL, all in the DSS; a response signed by somebody else does not count."""
    trust = test_pki.trust_config(crls=())
    root_crl = [test_pki.crls["qualified_root"]]
    ca, signer = test_pki.qualified_ca, test_pki.signer("qualified")
    signed = test_pki.sign_pdf(application_pdf)
    good = attacks.add_dss(test_pki, signed, ocsps=[attacks.ocsp_response(test_pki, signer, ca)], crls=root_crl)
    accepted(validate_pdf(good, trust=trust, original=application_pdf))
    responder = attacks.extra_party(test_pki, "OCSP Responder", issuer=ca, ocsp_signing=True)
    delegated = attacks.ocsp_response(test_pki, signer, ca, responder=responder)
    accepted(validate_pdf(attacks.add_dss(test_pki, signed, ocsps=[delegated], crls=root_crl), trust=trust))
    forged = attacks.ocsp_response(test_pki, signer, ca, responder=test_pki.signer("untrusted"))
    refused(
        validate_pdf(attacks.add_dss(test_pki, signed, ocsps=[forged], crls=root_crl), trust=trust),
        Reason.REVOCATION_UNKNOWN,
    )
    revoked_signer = test_pki.signer("revoked")
    revoked = attacks.add_dss(
        test_pki,
        test_pki.sign_pdf(application_pdf, "revoked"),
        ocsps=[attacks.ocsp_response(test_pki, revoked_signer, ca, revoked_at=test_pki.revoked_at)],
        crls=root_crl,
    )
    refused(validate_pdf(revoked, trust=trust), Reason.REVOKED)
