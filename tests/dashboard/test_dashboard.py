"""Where people land after signing in: the outlet's overview per open election, the staff's work."""

from __future__ import annotations

from datetime import timedelta

from portal.db import utcnow
from portal.extensions import db
from portal.night.models import FeedAddress
from tests.factories import make_test_election, sign_in


def test_an_outlet_lands_on_its_overview(client, make_applicant, make_election):
    make_election(code="prez2099")
    applicant = make_applicant()
    db.session.commit()
    response = sign_in(client, applicant)
    assert response.headers["Location"] == "/start"
    overview = client.get("/start")
    assert overview.headers["Location"] == f"/organisations/{applicant.organisation_id}/overview"
    html = client.get(overview.headers["Location"]).get_data(as_text=True)
    assert "Testovací volba" in html
    assert "Požádejte o přístup" in html  # the next step: apply
    assert f"/organisations/{applicant.organisation_id}/applications/new/prez2099" in html
    assert "Zbývá" in html  # the deadline countdown


def test_the_overview_shows_addresses_in_force_and_whether_the_proxy_saw_them(
    client, make_applicant, make_application, make_staff, app
):
    election = make_test_election("kv2099")
    applicant = make_applicant()
    make_application(election, applicant, production=["192.0.2.10", "192.0.2.11"], state="approved", staff=make_staff())
    seen_at = utcnow() - timedelta(minutes=5)
    db.session.add(
        FeedAddress(
            election_id=election.id,
            proxy="proxy-1",
            address="192.0.2.10",
            organisation_id=applicant.organisation_id,
            kind="production",
            requests=12,
            refused=0,
            last_seen=seen_at,
            updated_at=seen_at,
        )
    )
    db.session.commit()
    sign_in(client, applicant)
    html = client.get(f"/organisations/{applicant.organisation_id}/overview").get_data(as_text=True)
    rows = html[html.index("<tbody>") :]
    first, second = rows.index("192.0.2.10"), rows.index("192.0.2.11")
    assert "naposledy" in rows[first:second] and "zatím neviděna" in rows[second:]
    assert 'href="http://127.0.0.1:8080/whoami"' in html  # the self-test at the feed proxy
    assert "Ověřte spojení" in html  # the next step: the self-test


def test_another_outlets_overview_is_not_found(client, make_applicant, make_organisation):
    applicant = make_applicant()
    other = make_organisation(name="Cizí s.r.o.", ico="00027383")
    db.session.commit()
    sign_in(client, applicant)
    assert client.get(f"/organisations/{other.id}/overview").status_code == 404


def test_staff_land_on_their_work(client, make_staff, make_application, make_election):
    election = make_election(code="prez2099", signature_required=True)
    make_application(election, state="draft")
    other = make_election(code="kv2099")
    make_application(other, state="submitted")
    reviewer = make_staff()
    db.session.commit()
    response = sign_in(client, reviewer)
    assert response.headers["Location"] == "/start"
    assert client.get("/start").headers["Location"] == "/staff/work"
    html = client.get("/staff/work").get_data(as_text=True)
    assert "/staff/applications?election=kv2099&amp;state=submitted" in html
    assert "1 čeká" in html
    assert "prez2099-0001" in html  # a draft of a signature election: a data-box delivery may come
    assert "/staff/elections/prez2099/filming" in html and "/staff/elections/kv2099/meeting" in html


def test_outlets_are_refused_the_work_page(client, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    assert client.get("/staff/work").status_code == 403
