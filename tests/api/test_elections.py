"""Public election data: codes, names, the Prague deadline day and its UTC instant, the phase now."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from tests.api.conftest import error_code


def test_an_election_in_winter_closes_at_23_utc_on_its_deadline_day(client, make_election):
    make_election(code="prez2099", deadline=date(2099, 12, 18))
    db.session.commit()

    body = client.get("/api/v1/elections/prez2099").get_json()

    assert body["code"] == "prez2099"
    assert body["name"] == {"cs": "Testovací volba", "en": "Test election"}
    assert body["kind"] == "president" and body["status"] == "announced"
    assert body["application_deadline"] == "2099-12-18"
    assert body["applications_close_at"] == "2099-12-18T23:00:00Z"
    assert body["phase"] == "registration"
    assert [r["number"] for r in body["rounds"]] == [1, 2]
    assert body["rounds"][0]["voting_starts_at"] == "2100-01-13T13:00:00Z"
    assert all(value.endswith("Z") for r in body["rounds"] for key, value in r.items() if key != "number")


def test_in_summer_the_deadline_ends_at_22_utc(client, make_election):
    make_election(code="kv2099", deadline=date(2099, 6, 18), first_voting_day=date(2099, 7, 10), kind="chamber")
    db.session.commit()
    body = client.get("/api/v1/elections/kv2099").get_json()
    assert body["applications_close_at"] == "2099-06-18T22:00:00Z"
    assert len(body["rounds"]) == 1


def test_the_list_has_every_election_and_utf8_names(client, make_election):
    make_election(code="prez2099")
    make_election(code="old2020", deadline=date(2020, 1, 10))
    db.session.commit()
    response = client.get("/api/v1/elections")
    assert response.mimetype == "application/json"
    assert "Testovací".encode() in response.get_data()  # UTF-8, not \\u escapes
    phases = {e["code"]: e["phase"] for e in response.get_json()["elections"]}
    assert phases == {"prez2099": "registration", "old2020": "closed"}


def test_an_unknown_election_is_404(client):
    response = client.get("/api/v1/elections/nothing")
    assert response.status_code == 404 and error_code(response) == "not_found"
