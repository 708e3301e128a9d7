"""Staff see the validation report of a signed upload in Czech and English, and download it as JSON."""

from __future__ import annotations

from portal.accounts.models import Role
from portal.extensions import db
from tests.factories import post_form, sign_in
from tests.registration.test_signed_submission import (  # noqa: F401 - fixtures
    download,
    outlet,
    pki,
    signed_app,
    upload,
)


def test_staff_see_and_download_the_signature_report(outlet, pki, make_staff):  # noqa: F811
    client, application, base = outlet
    upload(client, base, pki.sign_pdf(download(client, base)))
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    staff_client = client.application.test_client()
    sign_in(staff_client, staff)
    page = staff_client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "Výsledek ověření (ETSI EN 319 102-1)" in page
    assert "<strong>vyhověl</strong>" in page and "TOTAL_PASSED" in page
    assert "Úroveň PAdES" in page and "B-B" in page
    assert "podle certifikátu: ano" in page
    assert "přijetí souboru: bez důvěryhodného časového razítka" in page
    assert "CZ, pořadové číslo 1" in page
    post_form(staff_client, "/language", {"language": "en", "next": "/elections"})
    page = staff_client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "Validation outcome (ETSI EN 319 102-1)" in page and "<strong>passed</strong>" in page
    assert "the receipt of the file: no trusted timestamp" in page and "CZ, sequence number 1" in page
    response = staff_client.get(f"/staff/applications/{application.id}/signature-report.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    report = response.get_json()
    assert report["accepted"] is True and report["indication"] == "TOTAL_PASSED"
    assert report["pades_level"] == "B-B" and report["trusted_lists"][0]["sequence_number"] == 1
    assert report["document_sha256"] and report["signatures"][0]["signer"]["organisation_identifier"]


def test_no_report_without_a_signed_submission(outlet, make_staff):  # noqa: F811
    _client, application, _base = outlet
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    staff_client = _client.application.test_client()
    sign_in(staff_client, staff)
    assert staff_client.get(f"/staff/applications/{application.id}/signature-report.json").status_code == 404
