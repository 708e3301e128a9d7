"""make run's demo: the demo qualified CA signs a downloaded application and the portal accepts it."""

from datetime import UTC, datetime

from portal.cli import main
from portal.registration.pdf import render_application_pdf
from portal.signatures.demo import ensure_demo_pki
from portal.signatures.trust import TrustConfig
from portal.signatures.validate import validate_signed_pdf


def test_a_pdf_signed_by_portal_demo_sign_is_accepted_with_the_demo_trust(
    app, tmp_path, make_election, make_application
):
    application = make_application(make_election(signature_required=True))
    original = render_application_pdf(application.latest)
    source = tmp_path / "application.pdf"
    source.write_bytes(original)
    runner = app.test_cli_runner()
    folder = tmp_path / "pki"
    settings = runner.invoke(main, ["demo", "pki", "--folder", str(folder)], catch_exceptions=False)
    assert "PORTAL_TRUST_ROOTS=" in settings.output
    signed_run = runner.invoke(main, ["demo", "sign", str(source), "--folder", str(folder)], catch_exceptions=False)
    assert signed_run.exit_code == 0
    signed = (tmp_path / "application-signed.pdf").read_bytes()

    pki = ensure_demo_pki(folder)
    trust = TrustConfig.from_files(roots=[pki.roots], crls=[pki.crl])
    verdict = validate_signed_pdf(signed, trust=trust, original=original, received_at=datetime.now(UTC))
    assert verdict.accepted, verdict.reasons
    assert verdict.accepted_signature.signer.organisation_identifier == "NTRCZ-26439395"
    assert verdict.accepted_signature.signer.qualified


def test_the_demo_pki_is_made_once(tmp_path):
    first = ensure_demo_pki(tmp_path)
    roots = first.roots.read_bytes()
    assert ensure_demo_pki(tmp_path).roots.read_bytes() == roots
    assert oct(first.signer_key.stat().st_mode & 0o777) == "0o600"


def test_demo_sign_refuses_a_file_that_is_not_a_pdf(app, tmp_path):
    source = tmp_path / "letter.txt"
    source.write_text("not a pdf")
    result = app.test_cli_runner().invoke(main, ["demo", "sign", str(source), "--folder", str(tmp_path / "pki")])
    assert result.exit_code == 2
