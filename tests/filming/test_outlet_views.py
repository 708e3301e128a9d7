"""The outlet's pages over HTTP: the request form, submission, the permit download; isolation from other
outlets; the public verification page; bad input answered in the user's language, never a 500."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.filming import service
from portal.filming.models import PermitPerson, PermitRequest, RequestState
from tests.factories import csrf_token, post_form, sign_in
from tests.filming.conftest import JANA, PETR, processing_window
from tests.mailbox import Mailbox, body_of


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def outlet(app, make_applicant, make_organisation):
    return make_applicant(organisation=make_organisation(name="Zprávy Brno s.r.o."), email="eva@zpravy.example")


def form_data(**changes: str) -> dict[str, str]:
    data = {
        "round_number": "1",
        "applicant_name": "Eva Redaktorová",
        "applicant_phone": "274 051 111",
        "applicant_email": "eva@zpravy.example",
        "newsroom_name": "Zprávy Brno",
        "newsroom_address": "Náměstí Svobody 1, Brno",
        "persons-0-name": "Jana Nováková",
        "persons-0-phone": "+420 601 123 456",
        "persons-0-email": "jana@zpravy.example",
        "persons-1-name": "Petr Svoboda",
        "persons-1-phone": "602 123 456",
        "persons-1-email": "petr@zpravy.example",
        "kinds": "video",
        "scope": "Příjezd výsledků z okrsků.",
        "preferred_area": "district:Brno-město",
        "preferred_times": "sobota odpoledne",
    }
    data.update(changes)
    return data


def test_the_outlet_saves_a_draft_then_submits_and_gets_a_receipt(client, election, outlet, mailbox: Mailbox):
    db.session.commit()
    sign_in(client, outlet)
    url = f"/organisations/{outlet.organisation_id}/filming/prez2099"
    page = client.get(url).get_data(as_text=True)
    assert "Zprávy Brno s.r.o." in page and 'name="persons-7-email"' in page  # eight rows for persons

    saved = post_form(client, url, {**form_data(**{"persons-1-phone": ""}), "save": "1"})
    assert saved.status_code == 302
    assert "Koncept byl uložen." in client.get(url).get_data(as_text=True)

    incomplete = post_form(client, url, {**form_data(**{"persons-1-phone": ""}), "submit_request": "1"})
    assert incomplete.status_code == 200
    assert 'id="persons-1-phone-error-1"' in incomplete.get_data(as_text=True)
    assert "Toto pole je povinné." in incomplete.get_data(as_text=True)

    submitted = post_form(client, url, {**form_data(), "submit_request": "1"})
    assert submitted.status_code == 302
    request = db.session.scalar(select(PermitRequest))
    assert request.state is RequestState.SUBMITTED and [p.name for p in request.persons] == [JANA[0], PETR[0]]
    assert request.preferred_region == "Jihomoravský kraj" and request.preferred_district == "Brno-město"
    receipt = mailbox.wait_for("eva@zpravy.example")
    assert request.reference in receipt["Subject"] and "Jana Nováková, Petr Svoboda" in body_of(receipt)
    page = client.get(url).get_data(as_text=True)
    assert request.reference in page and "Čeká na rozhodnutí" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"round_number": "x"}, "Vyberte kolo této volby."),
        ({"round_number": "99999999999999999999"}, "Vyberte kolo této volby."),
        ({"preferred_area": "district:Atlantis"}, "Vyberte jednu z možností."),
        ({"kinds": "smell"}, "Vyberte jednu z možností."),
        ({"persons-0-email": "jana@"}, "Zadejte platnou e-mailovou adresu."),
        ({"persons-0-phone": "12"}, "Zadejte platné telefonní číslo"),
        ({"preferred_points": "NOPE"}, "Přebírací místo NOPE neexistuje."),
    ],
)
def test_bad_input_is_answered_with_a_specific_czech_message_and_changes_nothing(
    client, election, outlet, change, message
):
    db.session.commit()
    sign_in(client, outlet)
    response = post_form(
        client, f"/organisations/{outlet.organisation_id}/filming/prez2099", {**form_data(**change), "save": "1"}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PermitRequest)) == 0


def test_after_the_deadline_the_form_is_closed_and_a_late_post_is_refused(client, make_election, outlet):
    from datetime import date

    make_election(code="prez2020", deadline=date(2020, 12, 18))
    db.session.commit()
    sign_in(client, outlet)
    url = f"/organisations/{outlet.organisation_id}/filming/prez2020"
    page = client.get(url).get_data(as_text=True)
    assert "Žádosti o povolení pro tuto volbu již nepřijímáme." in page and 'name="persons-0-name"' not in page
    late = post_form(client, url, {**form_data(), "submit_request": "1"})
    assert late.status_code == 200 and "Lhůta uplynula" in late.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PermitRequest)) == 0


def test_an_outlet_cannot_see_or_download_another_outlets_persons(
    client, election, outlet, make_applicant, make_organisation, make_staff, make_point, make_permit_request
):
    other = make_applicant(organisation=make_organisation(name="Cizí televize a.s."))
    theirs = make_permit_request(
        election, other, persons=[("Tajná Reportérka", "+420 777 123 456", "tajna@tv.example")]
    )
    start, end = processing_window(election)
    (their_person,) = theirs.persons
    service.approve_person(
        their_person, point=make_point(), starts_at=start, ends_at=end, staff=make_staff(), at=utcnow()
    )
    mine = make_permit_request(election, outlet)
    db.session.commit()
    sign_in(client, outlet)

    own_page = client.get(f"/organisations/{outlet.organisation_id}/filming/prez2099").get_data(as_text=True)
    assert mine.reference in own_page and "Tajná" not in own_page and theirs.reference not in own_page
    assert "Tajná" not in client.get(f"/organisations/{outlet.organisation_id}/filming").get_data(as_text=True)
    assert client.get(f"/organisations/{other.organisation_id}/filming/prez2099").status_code == 404
    assert client.get(f"/organisations/{other.organisation_id}/filming").status_code == 404
    # Their person's id through my organisation's download: 404, not their permit.
    response = post_form(
        client, f"/organisations/{outlet.organisation_id}/filming/prez2099/permit.pdf", {"person": their_person.id}
    )
    assert response.status_code == 404 and b"%PDF" not in response.get_data()
    for raw in ("abc", "", "-1", "9" * 30):
        assert (
            post_form(
                client, f"/organisations/{outlet.organisation_id}/filming/prez2099/permit.pdf", {"person": raw}
            ).status_code
            == 404
        )


def test_the_outlet_downloads_its_permit_and_the_verification_page_shows_only_name_place_and_time(
    client, election, outlet, make_staff, make_point, make_permit_request
):
    request = make_permit_request(election, outlet, persons=[JANA])
    (person,) = request.persons
    start, end = processing_window(election)
    point = make_point(name="Brno-střed")
    service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    db.session.commit()
    sign_in(client, outlet)
    page = client.get(f"/organisations/{outlet.organisation_id}/filming/prez2099").get_data(as_text=True)
    assert "Stáhnout povolení" in page and "Brno-střed" in page
    pdf = post_form(
        client, f"/organisations/{outlet.organisation_id}/filming/prez2099/permit.pdf", {"person": person.id}
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF-") and person.permit_number in pdf.headers["Content-Disposition"]

    anonymous = client.application.test_client()
    verify = anonymous.get(f"/permits/verify/{person.permit_token}")
    text = verify.get_data(as_text=True)
    assert verify.status_code == 200 and verify.headers["Cache-Control"] == "no-store"
    assert "Platné" in text and "Jana Nováková" in text and "Brno-střed" in text
    main = re.search(r"<main.*</main>", text, re.S).group(0)
    for private in ("601", "jana@zpravy.example", "Zprávy Brno", "eva@", request.reference):
        assert private not in main, private

    service.revoke_permit(db.session.get(PermitPerson, person.id), staff=make_staff(), at=utcnow())
    db.session.commit()
    assert "Zrušeno" in anonymous.get(f"/permits/verify/{person.permit_token}").get_data(as_text=True)
    assert anonymous.get("/permits/verify/not-a-permit").status_code == 404
    # A revoked permit is no longer downloadable by the outlet.
    gone = post_form(
        client, f"/organisations/{outlet.organisation_id}/filming/prez2099/permit.pdf", {"person": person.id}
    )
    assert gone.status_code == 404


def test_staff_can_read_an_outlets_requests_but_not_write_them(client, election, outlet, make_staff):
    staff = make_staff()
    db.session.commit()
    sign_in(client, staff)
    url = f"/organisations/{outlet.organisation_id}/filming/prez2099"
    assert client.get(url).status_code == 200
    assert post_form(client, url, {**form_data(), "save": "1"}).status_code == 403


def test_a_download_without_the_csrf_token_is_refused(client, election, outlet, make_permit_request):
    make_permit_request(election, outlet, state="draft")
    db.session.commit()
    sign_in(client, outlet)
    url = f"/organisations/{outlet.organisation_id}/filming/prez2099/request.pdf"
    assert client.post(url, data={"lang": "cs"}).status_code == 400
    assert post_form(client, url, {"lang": "de"}).status_code == 400
    response = post_form(client, url, {"lang": "en"})
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    assert csrf_token(client)  # the session is still fine
