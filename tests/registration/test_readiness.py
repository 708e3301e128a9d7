"""Errors before the signature: every problem at once, by position; no PDF or upload for a draft that
is not ready; a confirmation before withdrawing an approval."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.access import service as decisions
from portal.db import utcnow
from portal.extensions import db
from portal.registration.completeness import readiness
from portal.registration.models import AddressSettings, Application, VersionState
from tests.factories import post_form, sign_in


@pytest.fixture
def outlet(client, make_applicant, make_election):
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    election = make_election(code="prez2099", signature_required=True)
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    return applicant, election


def start(client, applicant, election) -> str:
    response = post_form(client, f"/organisations/{applicant.organisation_id}/applications/new/{election.code}", {})
    return response.headers["Location"]


def draft_data(**changes):
    data = {
        "contact_email": "redakce@outlet.example",
        "contact_phone": "274 051 111",
        "production-0": "192.0.2.10",
        "accept_terms": "y",
        "save": "1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_three_bad_addresses_are_named_at_once_by_their_position(client, outlet):
    applicant, election = outlet
    url = start(client, applicant, election)
    bad = {"production-1": "10.0.0.1", "production-2": "100.64.1.1", "test-3": "not an address"}
    html = post_form(client, url, draft_data(**bad)).get_data(as_text=True)
    assert re.search(r'id="production-1-error-1"[^>]*>[^<]*10\.0\.0\.1', html)
    assert re.search(r'id="production-2-error-1"[^>]*>[^<]*100\.64\.1\.1', html)
    assert re.search(r'id="test-3-error-1"[^>]*>[^<]*not an address', html)
    summary = html[html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))]
    assert 'href="#production-1">Produkční adresa 2:' in summary
    assert 'href="#production-2">Produkční adresa 3:' in summary
    assert 'href="#test-3">Testovací adresa 4:' in summary
    application = db.session.scalar(select(Application))
    db.session.refresh(application.latest)
    assert application.latest.addresses == []  # nothing saved


def test_each_address_input_has_its_own_label_and_required_fields_are_marked(client, outlet):
    applicant, election = outlet
    html = client.get(start(client, applicant, election)).get_data(as_text=True)
    labels = re.findall(r'<label for="(production-\d|test-\d)">([^<]*)</label>', html)
    assert len(labels) == 10 and len({text for _, text in labels}) == 10
    assert ("production-2", "Produkční adresa 3") in labels
    assert re.search(r'<input[^>]*id="contact_phone"[^>]*required', html)
    assert not re.search(r'<input[^>]*id="production-1"[^>]*required', html)


def test_an_incomplete_draft_offers_no_pdf_and_the_server_refuses_it(client, outlet):
    applicant, election = outlet
    url = start(client, applicant, election)
    post_form(client, url, draft_data(contact_phone="", accept_terms=None))
    html = client.get(url).get_data(as_text=True)
    assert "application.pdf" not in html and 'name="signed_pdf"' not in html
    missing = html[html.index('id="readiness"') :]
    assert 'href="#contact_phone">Kontaktní telefon:' in missing and 'href="#accept_terms"' in missing

    response = client.get(f"{url}/application.pdf?lang=cs")
    assert response.status_code == 302 and response.mimetype != "application/pdf"
    notice = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="{url}#contact_phone"' in notice and "notice-error" in notice

    upload = post_form(
        client, f"{url}/signed", {"signed_pdf": (BytesIO(b"%PDF-1.7"), "a.pdf")}, content_type="multipart/form-data"
    )
    assert upload.status_code == 302
    notice = client.get(upload.headers["Location"]).get_data(as_text=True)
    assert f'href="{url}#contact_phone"' in notice
    assert db.session.scalar(select(Application)).latest.state is VersionState.DRAFT


def test_a_complete_draft_offers_the_pdf(client, outlet):
    applicant, election = outlet
    url = start(client, applicant, election)
    post_form(client, url, draft_data())
    assert "application.pdf" in client.get(url).get_data(as_text=True)
    response = client.get(f"{url}/application.pdf?lang=cs")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_the_quota_counts_the_organisations_other_applications(
    client, outlet, make_application, make_staff, make_election
):
    applicant, _ = outlet
    election = make_election(code="kv2099")  # submitted in the portal, so the factory can approve
    make_application(
        election, applicant, production=[f"192.0.2.{n}" for n in range(1, 5)], state="approved", staff=make_staff()
    )
    db.session.commit()
    url = start(client, applicant, election)
    post_form(client, url, draft_data(**{"production-0": "192.0.2.50", "production-1": "192.0.2.51"}))
    application = db.session.scalars(select(Application).order_by(Application.id.desc())).first()
    check = readiness(application.latest, decisions.address_policy(), at=utcnow())
    assert [(p.field, p.code) for p in check.problems] == [("production", "quota_exceeded")]
    missing = client.get(url).get_data(as_text=True)
    missing = missing[missing.index('id="readiness"') :]
    assert "by v těchto volbách měla 6 adres" in missing
    assert client.get(f"{url}/application.pdf?lang=cs").status_code == 302


def test_withdrawing_an_approved_application_asks_first(client, outlet, make_application, make_staff, make_election):
    applicant, _ = outlet
    election = make_election(code="kv2099")
    application = make_application(election, applicant, state="approved", staff=make_staff())
    db.session.commit()
    base = f"/organisations/{applicant.organisation_id}/applications/{application.id}"
    page = client.get(base).get_data(as_text=True)
    assert f'href="{base}/withdraw"' in page  # a link to the confirmation, not a button that withdraws

    confirmation = client.get(f"{base}/withdraw").get_data(as_text=True)
    assert "192.0.2.10" in confirmation and 'name="confirm"' in confirmation
    unconfirmed = post_form(client, f"{base}/withdraw", {})
    assert unconfirmed.status_code == 200 and "confirm-error-1" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, application.id).in_force is not None

    assert post_form(client, f"{base}/withdraw", {"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, application.id).latest.state is VersionState.WITHDRAWN
