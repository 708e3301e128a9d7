"""The office's pages over HTTP: deciding per person (capacity shown and confirmed), revocation, the door
lists as CSV and PDF, the deadline."""

from __future__ import annotations

import csv
import io
import re
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.accounts.models import Role
from portal.db import utcnow
from portal.elections.prague import to_prague
from portal.extensions import db
from portal.filming import service
from portal.filming.models import FilmingDeadline, PermitPerson, PersonState
from tests.factories import post_form, sign_in
from tests.filming.conftest import JANA, PETR, processing_window
from tests.mailbox import Mailbox, body_of


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def reviewer(client, make_staff):
    user = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, user)
    return user


def local(instant) -> str:  # type: ignore[no-untyped-def]
    return to_prague(instant).strftime("%Y-%m-%dT%H:%M")


def approve(client, request, person, point, start, end, **extra):  # type: ignore[no-untyped-def]
    prefix = f"p{person.id}-"
    data = {
        "person": person.id,
        prefix + "point": point.code,
        prefix + "starts_at": local(start),
        prefix + "ends_at": local(end),
        **{prefix + key: value for key, value in extra.items()},
    }
    token_page = client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)
    token = re.search(rf'name="{prefix}csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
    return client.post(
        f"/staff/filming/requests/{request.reference}/approve", data={**data, prefix + "csrf_token": token}
    )


def test_staff_approve_per_person_and_see_an_over_booking_before_confirming_it(
    client, election, reviewer, make_point, make_permit_request, make_staff
):
    point = make_point("BRN1", capacity=1, name="Brno-střed")
    start, end = processing_window(election)
    (earlier,) = make_permit_request(election, persons=[("Karel Novák", "+420 603 123 456", "k@tv.example")]).persons
    service.approve_person(earlier, point=point, starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    request = make_permit_request(election, persons=[JANA, PETR], points=("BRN1",))
    db.session.commit()

    page = client.get(f"/staff/elections/{election.code}/filming").get_data(as_text=True)
    assert request.reference in page and "Karel Novák" in page
    detail = client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)
    assert "Karel Novák" in detail  # already booked at the preferred point
    assert f'name="p{request.persons[0].id}-point"' in detail and f'name="p{request.persons[1].id}-point"' in detail

    jana = request.persons[0]
    full = approve(client, request, jana, point, start, end)
    text = full.get_data(as_text=True)
    assert full.status_code == 400
    assert "Brno-střed pojme najednou 1 osob" in text and "Karel Novák" in text
    db.session.expire_all()
    assert db.session.get(PermitPerson, jana.id).state is PersonState.REQUESTED

    confirmed = approve(client, request, jana, point, start, end, allow_overbooking="y")
    assert confirmed.status_code == 302
    db.session.expire_all()
    jana = db.session.get(PermitPerson, jana.id)
    assert jana.state is PersonState.APPROVED and jana.overbooked
    assert "překročena kapacita" in client.get(f"/staff/elections/{election.code}/filming").get_data(as_text=True)
    permit = client.get(f"/staff/filming/requests/{request.reference}/permit.pdf?person={jana.id}")
    assert permit.status_code == 200 and permit.get_data().startswith(b"%PDF-")


def test_a_time_the_clocks_skip_is_refused_with_the_reason(
    client, make_election, reviewer, make_point, make_permit_request
):
    from datetime import date

    # Polls on Friday 26 March 2100; the clocks go forward on Sunday 28 March 2100 at 02:00.
    election = make_election(
        code="kv2100", deadline=date(2100, 3, 12), first_voting_day=date(2100, 3, 26), kind="senate"
    )
    point = make_point()
    request = make_permit_request(election)
    db.session.commit()
    (person,) = request.persons
    prefix = f"p{person.id}-"
    page = client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)
    token = re.search(rf'name="{prefix}csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        f"/staff/filming/requests/{request.reference}/approve",
        data={
            "person": person.id,
            prefix + "csrf_token": token,
            prefix + "point": point.code,
            prefix + "starts_at": "2100-03-28T02:30",
            prefix + "ends_at": "2100-03-28T04:00",
        },
    )
    assert response.status_code == 400
    assert "Čas 2100-03-28 02:30 v České republice neexistuje" in response.get_data(as_text=True)


def test_rejection_keeps_its_reason_internal(client, election, reviewer, make_permit_request, mailbox: Mailbox):
    request = make_permit_request(election, persons=[JANA])
    db.session.commit()
    (person,) = request.persons
    page = client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)
    token = re.search(rf'name="p{person.id}-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        f"/staff/filming/requests/{request.reference}/reject",
        data={"person": person.id, f"p{person.id}-csrf_token": token, f"p{person.id}-internal_reason": "Podezřelé."},
    )
    assert response.status_code == 302
    mail = mailbox.wait_for("eva@zpravy.example")
    assert "neschváleno" in mail["Subject"] and "Podezřelé" not in body_of(mail)
    assert "Podezřelé" in client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)


def test_revoking_from_the_page_shows_on_the_verification_page(
    client, election, reviewer, make_point, make_permit_request, make_staff
):
    request = make_permit_request(election, persons=[JANA])
    (person,) = request.persons
    start, end = processing_window(election)
    service.approve_person(person, point=make_point(), starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    db.session.commit()
    page = client.get(f"/staff/filming/requests/{request.reference}").get_data(as_text=True)
    token = re.search(rf'name="p{person.id}-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        f"/staff/filming/requests/{request.reference}/revoke",
        data={"person": person.id, f"p{person.id}-csrf_token": token, f"p{person.id}-reason": "Na žádost redakce."},
    )
    assert "Zrušeno" in client.get(f"/permits/verify/{person.permit_token}").get_data(as_text=True)


def test_the_door_list_as_csv_and_pdf(client, election, reviewer, make_point, make_permit_request, make_staff):
    brno, kladno = make_point("BRN1", name="Brno-střed"), make_point("KLA", name="Kladno")
    start, end = processing_window(election)
    staff = make_staff()
    jana, petr = make_permit_request(election, persons=[JANA, PETR]).persons
    service.approve_person(jana, point=brno, starts_at=start, ends_at=end, staff=staff, at=utcnow())
    service.approve_person(petr, point=kladno, starts_at=start, ends_at=end, staff=staff, at=utcnow())
    service.revoke_permit(petr, staff=staff, at=utcnow())
    db.session.commit()

    response = client.get(f"/staff/elections/{election.code}/filming/roster.csv?round=1")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["point_code"], r["name"], r["state"]) for r in rows] == [
        ("BRN1", "Jana Nováková", "approved"),
        ("KLA", "Petr Svoboda", "revoked"),
    ]
    assert rows[0]["starts_at"] == to_prague(start).strftime("%Y-%m-%d %H:%M") and rows[0]["phone"] == "+420601123456"

    one = client.get(f"/staff/elections/{election.code}/filming/roster.pdf?round=1&point=brn1")
    assert one.status_code == 200 and one.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(one.get_data())).pages)
    assert "Jana Nováková" in text and "Brno-střed" in text and "Petr Svoboda" not in text
    every = client.get(f"/staff/elections/{election.code}/filming/roster.pdf")
    pages = PdfReader(BytesIO(every.get_data())).pages
    assert len(pages) == 2 and "nevpouštět" in pages[1].extract_text()
    assert client.get(f"/staff/elections/{election.code}/filming/roster.csv?round=7").status_code == 404


def test_the_door_list_csv_neutralises_formulas(
    client, election, reviewer, make_point, make_permit_request, make_staff
):
    point = make_point("BRN1", name="-1+cmd|' /C calc'!A0")
    start, end = processing_window(election)
    (person,) = make_permit_request(election, persons=[("@SUM(A1:A9)", "+420 601 123 456", "x@zpravy.example")]).persons
    service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    db.session.commit()
    response = client.get(f"/staff/elections/{election.code}/filming/roster.csv?round=1")
    (row,) = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    assert row["name"] == "'@SUM(A1:A9)" and row["point_name"] == "'-1+cmd|' /C calc'!A0"
    assert row["phone"] == "+420601123456"


def test_unknown_or_draft_requests_are_not_found(client, election, reviewer, make_permit_request):
    draft = make_permit_request(election, state="draft")
    db.session.commit()
    for reference in (draft.reference, "prez2099-P9999", "nonsense", "prez2099-Pabc", "kv2022-P0001"):
        assert client.get(f"/staff/filming/requests/{reference}").status_code == 404, reference


def test_an_admin_sets_the_deadline_a_reviewer_may_not(client, election, reviewer, make_staff):
    page = client.get(f"/staff/elections/{election.code}/filming").get_data(as_text=True)
    assert 'name="deadline"' not in page
    assert (
        post_form(client, f"/staff/elections/{election.code}/filming/deadline", {"deadline": "2099-12-01"}).status_code
        == 403
    )
    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    admin_client = client.application.test_client()
    sign_in(admin_client, admin)
    response = post_form(admin_client, f"/staff/elections/{election.code}/filming/deadline", {"deadline": "2099-12-01"})
    assert response.status_code == 302
    assert db.session.scalar(select(FilmingDeadline)).requests_close_at.isoformat() == "2099-12-01T23:00:00+00:00"
    late = post_form(admin_client, f"/staff/elections/{election.code}/filming/deadline", {"deadline": "2100-02-01"})
    assert late.status_code == 302
    assert "Lhůta musí skončit před začátkem zpracování" in admin_client.get(late.headers["Location"]).get_data(
        as_text=True
    )
