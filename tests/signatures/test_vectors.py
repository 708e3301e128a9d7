"""The public test vectors of tests/data/pdf (pyHanko's, EU DSS's, the RUB shadow and certification
attacks) through the validator. Nothing of ours is trusted there, so nothing is accepted: what is
checked is integrity and modification detection, and that no file crashes or hangs the validator.

Expectations follow tests/data/pdf/MANIFEST.md:

* ``attack``: refused, and flagged: some signature (or the file) carries ``modified_after_signing``,
  ``integrity`` or ``malformed_pdf``.
* ``honest``: no signature is broken (``integrity``/``malformed_pdf``), the last signature is not
  reported as modified, and neither is the verdict (``not_trusted``, ``not_qualified`` and
  ``weak_algorithm`` are expected: their roots are not ours, some use SHA-1 or RSA-1024).
* ``unsigned``: ``not_signed``; ``unreadable``: ``malformed_pdf``; ``broken``: the one signature is
  ``integrity`` (an empty or unparsable CMS).
* ``disputed``: the projects disagree (MANIFEST: pyHanko flags a change that DSS tolerates, or a
  benign second signature on a certified document): refused, without a crash; we side with pyHanko.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from portal.signatures import Reason, TrustConfig, Verdict, validate_signed_pdf
from tests.realdata import PDF as PDF_DATA

TIME_LIMIT = 10.0

FLAGS = {Reason.MODIFIED_AFTER_SIGNING, Reason.INTEGRITY, Reason.MALFORMED_PDF}

SHADOW_CASES = [
    "hide-and-replace_variant-1_change_object_references",
    "hide-and-replace_variant-2_change_objects_usage",
    "hide_variant-1_hide-via-referenced-object",
    "hide_variant-2_hide-via-referenced-object_hide-form-via-form",
    "hide_variant-2_hide-via-referenced-object_hide-text-via-form",
    "replace_variant-1_replace-via-overlay",
]

EXPECTED: dict[str, str] = {
    # pyHanko's test data
    "pyhanko/certified-with-indirect-refs-in-dir.pdf": "honest",
    "pyhanko/circular-page-tree.pdf": "unsigned",
    "pyhanko/coverage-anomalies_base.pdf": "broken",
    "pyhanko/coverage-anomalies_one-byterange.pdf": "attack",
    "pyhanko/coverage-anomalies_signature-gap-too-big.pdf": "attack",
    "pyhanko/coverage-anomalies_tail-uncovered.pdf": "attack",
    "pyhanko/coverage-anomalies_weird-byterange.pdf": "attack",
    "pyhanko/ed448-disallowed-hash.pdf": "weak",
    "pyhanko/ed448-shake256-nolen.pdf": "honest",
    "pyhanko/form-update-ap-indirect-sneaky-trailer.pdf": "attack",
    "pyhanko/form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf": "attack",
    "pyhanko/form-update-no-override-appearance-stream-ap-indirect.pdf": "honest",
    "pyhanko/form-update-original-ap-type-wrong.pdf": "honest",
    "pyhanko/form-update-override-appearance-stream-ap-indirect-sneaky.pdf": "attack",
    "pyhanko/form-update-override-appearance-stream-ap-indirect.pdf": "honest",
    "pyhanko/form-update-override-appearance-stream-sneaky.pdf": "attack",
    "pyhanko/form-update-override-appearance-stream.pdf": "honest",
    "pyhanko/minimal-badxref.pdf": "unsigned",
    "pyhanko/minimal-signed-twice-both-created.pdf": "honest",
    "pyhanko/minimal-signed-twice-no-sig-type.pdf": "honest",
    "pyhanko/minimal-signed-twice-second-created.pdf": "honest",
    "pyhanko/minimal-startxref-hopeless.pdf": "unreadable",
    "pyhanko/minimal-two-fields-signed-twice.pdf": "honest",
    "pyhanko/minimal-with-field.pdf": "unsigned",
    "pyhanko/minimal.pdf": "unsigned",
    "pyhanko/pades-lta-dss-indirect-arrs-test-2.pdf": "honest",
    "pyhanko/pades-lta-dss-indirect-arrs-test.pdf": "honest",
    "pyhanko/pades-with-old-style-signing-cert-attr-issser.pdf": "honest",
    "pyhanko/pades-with-old-style-signing-cert-attr.pdf": "honest",
    "pyhanko/pdf-sig-with-econtent.pdf": "attack",
    "pyhanko/sig-no-signed-attrs.pdf": "honest",
    "pyhanko/sig-with-ski-sid.pdf": "honest",
    # EU DSS
    "dss/Signature-P-DE_SCI-4.pdf": "disputed",
    "dss/Signature-P-HU_MIC-1.pdf": "honest",
    "dss/doc-firmado.pdf": "honest",
    "dss/dss-2236_annotation-and-visible-change.pdf": "attack",
    "dss/dss-2236_replace.pdf": "attack",
    "dss/dss-2554_certified-no-change-permitted.pdf": "honest",
    "dss/hello_signed_INCSAVE_signed.pdf": "honest",
    "dss/hello_signed_INCSAVE_signed_EDITED.pdf": "attack",
    "dss/pades-signed-annot-added.pdf": "disputed",
    "dss/pades-spoofing-replaced-reason.pdf": "attack",
    "dss/pades_infinite_loop.pdf": "attack",
    "dss/pdf-byterange-overlap.pdf": "attack",
    "dss/pdf-double-signer-info.pdf": "broken",
    "dss/pdf-eof.pdf": "attack",
    "dss/pdf-removed-pages.pdf": "attack",
    "dss/pdf-signed-added-page.pdf": "attack",
    "dss/pdf-signed-corrupted.pdf": "attack",
    "dss/pdf-signed-original.pdf": "honest",
    "dss/pdf-signed-out-of-byteRange.pdf": "attack",
    "dss/pdf-spoofing-attack.pdf": "attack",
    "dss/pdf-with-empty-sig.pdf": "broken",
    "dss/pkcs7-no-message-digest.pdf": "weak",
    "dss/siwa.pdf": "attack",
    # PDF certification attacks
    "rub-nds-certification-attacks/01_NDA_cert_p2_original.pdf": "honest",
    "rub-nds-certification-attacks/01_Test_cert_p2_original.pdf": "honest",
    "rub-nds-certification-attacks/02_NDA_cert_p2_sign_original.pdf": "disputed",
    "rub-nds-certification-attacks/02_Test_cert_p2_sign_original.pdf": "disputed",
    "rub-nds-certification-attacks/03_NDA_cert_p2_sign_manipulate.pdf": "attack",
    "rub-nds-certification-attacks/03_Test_cert_p2_sign_manipulate.pdf": "attack",
    "rub-nds-certification-attacks/04_NDA_cert_p2_sign_sign_manipulate.pdf": "attack",
    "rub-nds-certification-attacks/minimal_cert.pdf": "honest",
    "rub-nds-certification-attacks/minimal_cert_invalid.pdf": "attack",
    "rub-nds-certification-attacks/shadowed-certified-visible.pdf": "honest",
}
for _case in SHADOW_CASES:
    EXPECTED[f"rub-nds-shadow-attacks/{_case}_2_original-document-shadowed.pdf"] = "unsigned"
    EXPECTED[f"rub-nds-shadow-attacks/{_case}_3_original-document-shadowed-signed.pdf"] = "honest"
    if _case.startswith("hide_variant-1"):
        for _variant in ("v1", "v2"):
            name = f"{_case}_4_original-document-shadowed-signed-manipulated_{_variant}.pdf"
            EXPECTED[f"rub-nds-shadow-attacks/{name}"] = "attack"
    else:
        EXPECTED[f"rub-nds-shadow-attacks/{_case}_4_original-document-shadowed-signed-manipulated.pdf"] = "attack"
for _case in SHADOW_CASES[0:1] + SHADOW_CASES[2:3] + SHADOW_CASES[5:6]:
    EXPECTED[f"rub-nds-shadow-attacks/{_case}_1_original-document.pdf"] = "unsigned"


def _all_reasons(verdict: Verdict) -> set[Reason]:
    return set(verdict.reasons) | {reason for report in verdict.signatures for reason in report.reasons}


@pytest.fixture(scope="module")
def nothing_trusted() -> TrustConfig:
    return TrustConfig()


def test_every_vector_has_an_expectation() -> None:
    present = {str(path.relative_to(PDF_DATA)) for path in PDF_DATA.rglob("*.pdf")}
    assert present == set(EXPECTED), f"new: {sorted(present - set(EXPECTED))}, gone: {sorted(set(EXPECTED) - present)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector(name: str, nothing_trusted: TrustConfig) -> None:
    path = PDF_DATA / name
    if not path.is_file():
        pytest.fail(f"{name} is missing from {PDF_DATA}")
    started = time.monotonic()
    verdict = validate_signed_pdf(
        path.read_bytes(), trust=nothing_trusted, received_at=datetime.now(UTC), time_limit=TIME_LIMIT
    )
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT, f"{name} took {elapsed:.1f} s"
    assert Reason.TIMEOUT not in verdict.reasons
    assert not verdict.accepted, "nothing is trusted here"
    expectation = EXPECTED[name]
    every = _all_reasons(verdict)
    if expectation == "attack":
        assert every & FLAGS, f"{name}: attack not flagged, reasons {sorted(every)}"
    elif expectation in ("honest", "weak"):
        assert verdict.signatures, f"{name}: no signature found"
        assert Reason.MODIFIED_AFTER_SIGNING not in verdict.reasons
        assert not {Reason.INTEGRITY, Reason.MALFORMED_PDF} & every, f"{name}: {sorted(every)}"
        # Earlier signatures followed by another one are flagged (only DSS and document timestamps may
        # follow a signature); one signature covers the document unmodified.
        assert any(Reason.MODIFIED_AFTER_SIGNING not in report.reasons for report in verdict.signatures)
        if expectation == "weak":
            assert Reason.WEAK_ALGORITHM in every
    elif expectation == "unsigned":
        assert verdict.reasons == (Reason.NOT_SIGNED,)
    elif expectation == "unreadable":
        assert verdict.reasons == (Reason.MALFORMED_PDF,)
    elif expectation == "broken":
        assert verdict.reasons == (Reason.INTEGRITY,)
    else:
        assert expectation == "disputed"
        assert verdict.reasons


def test_honest_shadow_documents_are_incremental_updates_of_their_unsigned_versions(
    nothing_trusted: TrustConfig,
) -> None:
    """Each signed shadow document is an incremental update of the shadowed one (the attacker's
    prepared file): the binding holds, as it should; the attack is caught by the modification check
    on the manipulated version. Bound to a different document, the signature is refused."""
    folder = PDF_DATA / "rub-nds-shadow-attacks"
    checked = 0
    for case in SHADOW_CASES:
        unsigned = (folder / f"{case}_2_original-document-shadowed.pdf").read_bytes()
        signed = (folder / f"{case}_3_original-document-shadowed-signed.pdf").read_bytes()
        assert signed.startswith(unsigned)
        verdict = validate_signed_pdf(
            signed, trust=nothing_trusted, original=unsigned, received_at=datetime.now(UTC), time_limit=TIME_LIMIT
        )
        assert Reason.NOT_BOUND_TO_ORIGINAL not in verdict.reasons, case
        checked += 1
    different = (folder / "replace_variant-1_replace-via-overlay_1_original-document.pdf").read_bytes()
    signed = (folder / "replace_variant-1_replace-via-overlay_3_original-document-shadowed-signed.pdf").read_bytes()
    verdict = validate_signed_pdf(
        signed, trust=nothing_trusted, original=different, received_at=datetime.now(UTC), time_limit=TIME_LIMIT
    )
    assert Reason.NOT_BOUND_TO_ORIGINAL in verdict.reasons
    assert checked == len(SHADOW_CASES)
