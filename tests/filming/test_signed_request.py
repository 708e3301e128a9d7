"""A permit request signed with a recognised signature, validated as signed applications are: bound to
the PDF the portal generated, qualified, before the deadline; refusals say why and change nothing."""

from __future__ import annotations

import html
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.filming.models import PermitRequest, RequestState
from portal.registration.messages import SIGNATURE_REASONS
from portal.registration.models import SubmissionChannel
from tests.factories import post_form, sign_in
from tests.signatures.pki import get_test_pki, unsigned_pdf


@pytest.fixture
def outlet(app, client, make_election, make_applicant, make_permit_request):
    make_election(code="kv2099", deadline=date(2099, 12, 18), signature_required=True)
    applicant = make_applicant(email="eva@zpravy.example")
    db.session.commit()
    sign_in(client, applicant)
    return applicant


def base(applicant) -> str:  # type: ignore[no-untyped-def]
    return f"/organisations/{applicant.organisation_id}/filming/kv2099"


def draft_data() -> dict[str, str]:
    return {
        "round_number": "1",
        "applicant_name": "Eva Redaktorová",
        "applicant_phone": "274 051 111",
        "applicant_email": "eva@zpravy.example",
        "newsroom_name": "Zprávy",
        "newsroom_address": "Praha",
        "persons-0-name": "Jana Nováková",
        "persons-0-phone": "601 123 456",
        "persons-0-email": "jana@zpravy.example",
        "kinds": "video",
        "scope": "Příjezd výsledků.",
        "preferred_area": "region:Hlavní město Praha",
    }


def save_draft(client, applicant) -> None:  # type: ignore[no-untyped-def]
    assert post_form(client, base(applicant), {**draft_data(), "save": "1"}).status_code == 302


def upload(client, applicant, data: bytes):  # type: ignore[no-untyped-def]
    from tests.factories import csrf_token

    return client.post(
        f"{base(applicant)}/signed",
        data={"csrf_token": csrf_token(client, base(applicant)), "signed_pdf": (BytesIO(data), "zadost.pdf")},
        content_type="multipart/form-data",
    )


def test_a_signed_request_is_accepted_and_a_plain_submit_is_not_offered(client, outlet):
    page = client.get(base(outlet)).get_data(as_text=True)
    assert 'name="submit_request"' not in page
    save_draft(client, outlet)
    refused_click = post_form(client, base(outlet), {**draft_data(), "submit_request": "1"})
    assert "Tato volba vyžaduje žádost podepsanou uznávaným elektronickým podpisem." in refused_click.get_data(
        as_text=True
    )

    original = post_form(client, f"{base(outlet)}/request.pdf", {"lang": "cs"}).get_data()
    assert original.startswith(b"%PDF-")
    # The same draft renders to the same bytes: the signed upload can be bound to it.
    assert post_form(client, f"{base(outlet)}/request.pdf", {"lang": "cs"}).get_data() == original

    response = upload(client, outlet, get_test_pki().sign_pdf(original))
    assert response.status_code == 302
    request = db.session.scalar(select(PermitRequest))
    assert request.state is RequestState.SUBMITTED and request.channel is SubmissionChannel.SIGNED_UPLOAD
    assert "Jana Nováková" in request.verdict_summary and request.document_sha256


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda original: get_test_pki().sign_pdf(unsigned_pdf()), "not_bound_to_original"),
        (lambda original: original, "not_signed"),
        (lambda original: get_test_pki().sign_pdf(original, "not_qualified"), "not_qualified"),
    ],
)
def test_a_wrong_signature_is_refused_with_the_reason_and_recorded(app, client, outlet, make, reason):
    save_draft(client, outlet)
    original = post_form(client, f"{base(outlet)}/request.pdf", {"lang": "cs"}).get_data()
    response = upload(client, outlet, make(original))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with app.test_request_context():
        expected = str(SIGNATURE_REASONS[reason])
    assert "Podepsaný soubor PDF nebyl přijat" in page and html.escape(expected) in page
    db.session.expire_all()
    assert db.session.scalar(select(PermitRequest)).state is RequestState.DRAFT
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "permit_request.signed_upload_refused"))
        is not None
    )


def test_an_upload_without_a_draft_or_not_a_pdf(client, outlet):
    response = upload(client, outlet, b"%PDF-1.7 nothing")
    assert response.status_code == 404
    save_draft(client, outlet)
    wrong_type = client.post(
        f"{base(outlet)}/signed",
        data={"signed_pdf": (BytesIO(b"x"), "zadost.exe")},
        content_type="multipart/form-data",
    )
    assert wrong_type.status_code == 400  # no CSRF token: refused before anything
