"""The outlet's application pages over HTTP; bad posts never produce a 500 or a change."""

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.registration.models import AddressSettings, Application, ApplicationAddress, VersionState
from tests.factories import post_form, sign_in


@pytest.fixture
def documentation_addresses(app):
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    db.session.commit()


@pytest.fixture
def outlet(client, make_applicant, make_election, documentation_addresses):
    election = make_election(code="prez2099")
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    return applicant, election


def form_data(**changes):
    data = {
        "contact_email": "redakce@outlet.example",
        "contact_phone": "274 051 111",
        "production-0": "192.0.2.10",
        "production-1": "192.0.2.11",
        "test-0": "198.51.100.5",
        "accept_terms": "y",
        "note": "",
        "submit_application": "1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def start(client, applicant, election):
    response = post_form(client, f"/organisations/{applicant.organisation_id}/applications/new/{election.code}", {})
    assert response.status_code == 302
    return response.headers["Location"]


def test_outlet_applies_with_two_production_and_one_test_address(client, outlet, mailbox):
    applicant, election = outlet
    url = start(client, applicant, election)
    page = client.get(url).get_data(as_text=True)
    assert 'name="production-4"' in page and 'name="test-4"' in page

    response = post_form(client, url, form_data())
    assert response.status_code == 302
    application = db.session.scalar(select(Application))
    assert application.latest.state is VersionState.SUBMITTED
    assert application.latest.addresses_of("production") == ["192.0.2.10", "192.0.2.11"]
    receipt = mailbox.wait_for("redakce@outlet.example")
    assert application.reference in receipt["Subject"]
    assert application.latest.content_sha256 in receipt.get_body().get_content()
    assert "192.0.2.10" in client.get(url).get_data(as_text=True)


def test_saving_a_draft_keeps_it_editable(client, outlet):
    applicant, election = outlet
    url = start(client, applicant, election)
    response = post_form(client, url, form_data(submit_application=None, save="1", accept_terms=None))
    assert response.status_code == 302
    assert db.session.scalar(select(Application)).latest.state is VersionState.DRAFT


@pytest.mark.parametrize(
    "changes",
    [
        {"production-0": "10.0.0.1"},
        {"production-0": "192.0.2.10; drop table"},
        {"production-1": "192.0.2.10"},
        {"production-0": "x" * 100000},
        {"production-0": "192.0.2.0/24"},
        {"production-0": "", "production-1": ""},
        {"contact_phone": "call me"},
        {"contact_email": "@@"},
        {"accept_terms": None},
        {"note": "n" * 5000},
        {"test-0": "192.0.2.10"},
        {"contact_phone": "+1 555 0100"},
        {"production-0": "2001:db8::1%eth0"},
    ],
)
def test_bad_application_posts_are_explained_and_change_nothing(client, outlet, changes):
    applicant, election = outlet
    url = start(client, applicant, election)
    response = post_form(client, url, form_data(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 413), response.status_code
    if response.status_code == 200:
        assert 'class="error-summary"' in html
    application = db.session.scalar(select(Application))
    db.session.refresh(application.latest)
    assert application.latest.state is VersionState.DRAFT
    assert db.session.scalar(select(func.count()).select_from(ApplicationAddress)) == 0


def test_refused_address_is_named_next_to_its_field(client, outlet):
    applicant, election = outlet
    url = start(client, applicant, election)
    html = post_form(client, url, form_data(**{"production-1": "100.64.1.1"})).get_data(as_text=True)
    assert re.search(r'id="production-1-error-1"[^>]*>[^<]*100\.64\.1\.1', html)


def test_application_after_the_deadline_is_refused_with_the_deadline(client, outlet, make_election):
    from datetime import date

    applicant, _ = outlet
    make_election(code="closed2024", deadline=date(2024, 9, 6), first_voting_day=date(2024, 9, 20))
    db.session.commit()
    response = post_form(client, f"/organisations/{applicant.organisation_id}/applications/new/closed2024", {})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "notice-error" in page and "6. 9. 2024" in page


def test_outlet_amends_an_approved_application(client, outlet, make_application, make_staff):
    applicant, election = outlet
    staff = make_staff()
    application = make_application(election, applicant, state="approved", staff=staff)
    db.session.commit()
    base = f"/organisations/{applicant.organisation_id}/applications/{application.id}"
    assert post_form(client, base + "/amend", {}).status_code == 302
    response = post_form(client, base, form_data(**{"production-0": "192.0.2.20", "production-1": ""}))
    assert response.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert [v.state.value for v in application.versions] == ["approved", "submitted"]
    assert application.in_force.addresses_of("production") == ["192.0.2.10"]


def test_outlet_withdraws(client, outlet, make_application):
    applicant, election = outlet
    application = make_application(election, applicant, state="submitted")
    db.session.commit()
    base = f"/organisations/{applicant.organisation_id}/applications/{application.id}"
    assert post_form(client, base + "/withdraw", {}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, application.id).latest.state is VersionState.WITHDRAWN
