"""A permit request before its signature: an empty draft is refused, an incomplete one gets no PDF
and no upload, and the page names what is missing with links to the inputs."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.filming.models import PermitRequest, RequestState
from tests.factories import post_form, sign_in
from tests.filming.test_outlet_views import form_data


@pytest.fixture
def outlet_page(client, make_election, make_applicant, make_organisation):
    make_election(code="prez2099", signature_required=True)
    outlet = make_applicant(organisation=make_organisation(name="Zprávy Brno s.r.o."), email="eva@zpravy.example")
    db.session.commit()
    sign_in(client, outlet)
    return f"/organisations/{outlet.organisation_id}/filming/prez2099"


def blank_persons() -> dict[str, str]:
    return {f"persons-{row}-{part}": "" for row in range(8) for part in ("name", "phone", "email")}


def test_an_empty_request_is_not_saved_silently(client, outlet_page):
    empty = {**form_data(**blank_persons(), applicant_name="", scope="", kinds="", preferred_area=""), "save": "1"}
    response = post_form(client, outlet_page, empty)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="persons"' in html and "alespoň jednu osobu" in html and 'class="error-summary"' in html
    assert db.session.scalar(select(func.count()).select_from(PermitRequest)) == 0


def test_an_incomplete_request_offers_no_pdf_and_the_server_refuses_it(client, outlet_page):
    incomplete = {**form_data(**{"persons-1-email": "", "scope": ""}), "save": "1"}
    assert post_form(client, outlet_page, incomplete).status_code == 302
    html = client.get(outlet_page).get_data(as_text=True)
    assert "request.pdf" not in html and 'name="signed_pdf"' not in html
    missing = html[html.index('id="readiness"') :]
    assert 'href="#persons-1-email">Osoba 2:' in missing and 'href="#scope"' in missing

    refused = post_form(client, f"{outlet_page}/request.pdf", {"lang": "cs"})
    assert refused.status_code == 302 and refused.mimetype != "application/pdf"
    assert f'href="{outlet_page}#persons-1-email"' in client.get(refused.headers["Location"]).get_data(as_text=True)

    upload = post_form(
        client,
        f"{outlet_page}/signed",
        {"signed_pdf": (BytesIO(b"%PDF-1.7"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert f'href="{outlet_page}#scope"' in client.get(upload.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(PermitRequest)).state is RequestState.DRAFT


def test_a_complete_request_offers_the_pdf(client, outlet_page):
    assert post_form(client, outlet_page, {**form_data(), "save": "1"}).status_code == 302
    assert "request.pdf" in client.get(outlet_page).get_data(as_text=True)
    response = post_form(client, f"{outlet_page}/request.pdf", {"lang": "cs"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
