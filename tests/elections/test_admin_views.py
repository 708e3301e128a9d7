"""Admins edit an election's calendar in Prague wall-clock time; bad input never breaks anything."""

from datetime import UTC, date, datetime

import pytest

from portal.accounts.models import Role
from portal.elections.models import Election
from portal.elections.seed import seed_elections
from portal.elections.service import election_by_code
from portal.extensions import db
from tests.factories import post_form, sign_in


@pytest.fixture
def admin_client(client, make_staff):
    seed_elections(date(2026, 11, 23))
    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    return client


def edit_form(**changes):
    data = {
        "name_cs": "Volba prezidenta republiky 2028",
        "name_en": "Presidential election 2028",
        "kind": "president",
        "status": "announced",
        "application_deadline": "2027-12-17",
        "has_media_server": "y",
        "signature_required": "y",
        "rounds-0-voting_starts_at": "2028-01-14T14:00",
        "rounds-0-voting_ends_at": "2028-01-15T14:00",
        "rounds-0-processing_starts_at": "2028-01-15T14:00",
        "rounds-0-live_ends_at": "2028-01-16T14:00",
        "rounds-1-voting_starts_at": "2028-01-28T14:00",
        "rounds-1-voting_ends_at": "2028-01-29T14:00",
        "rounds-1-processing_starts_at": "2028-01-29T14:00",
        "rounds-1-live_ends_at": "2028-01-30T08:00",
    }
    data.update(changes)
    return data


def reload(code: str) -> Election:
    db.session.expire_all()
    election = election_by_code(code)
    assert election is not None
    return election


def test_admin_moves_the_deadline_and_ends_the_runoff_early(admin_client):
    response = post_form(
        admin_client, "/staff/elections/prez2028/edit", edit_form(change_reason="Vánoce: lhůta o dva týdny dříve")
    )
    assert response.status_code == 302
    election = reload("prez2028")
    assert election.application_deadline_day == date(2027, 12, 17)
    assert election.applications_close_at == datetime(2027, 12, 17, 23, tzinfo=UTC)
    assert election.rounds[1].live_ends_at == datetime(2028, 1, 30, 7, tzinfo=UTC)
    assert election.status.value == "announced"


def test_wall_clock_time_skipped_by_the_spring_change_is_explained(admin_client):
    before = reload("prez2028").rounds[0].processing_starts_at
    response = post_form(
        admin_client, "/staff/elections/prez2028/edit", edit_form(**{"rounds-0-live_ends_at": "2028-03-26T02:30"})
    )
    assert response.status_code == 200
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert reload("prez2028").rounds[0].processing_starts_at == before


def test_deadline_after_processing_start_is_refused_on_the_form(admin_client):
    response = post_form(admin_client, "/staff/elections/prez2028/edit", edit_form(application_deadline="2028-01-20"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="application_deadline-error-1"' in html
    assert reload("prez2028").application_deadline_day == date(2027, 12, 31)


@pytest.mark.parametrize(
    "changes",
    [
        {"application_deadline": "31. 12. 2027"},
        {"application_deadline": "x" * 10000},
        {"kind": "dictatorship"},
        {"rounds-0-voting_starts_at": "tomorrow"},
        {"rounds-0-live_ends_at": ""},
        {"rounds-7-live_ends_at": "2028-01-16T14:00"},
        {"name_cs": ""},
    ],
)
def test_malformed_edits_are_explained_and_change_nothing(admin_client, changes):
    response = post_form(admin_client, "/staff/elections/prez2028/edit", edit_form(**changes))
    assert response.status_code == 200
    assert 'class="error-summary"' in response.get_data(as_text=True)
    election = reload("prez2028")
    assert election.application_deadline_day == date(2027, 12, 31) and election.status.value == "tentative"


def test_new_election_gets_the_default_calendar(admin_client):
    response = post_form(
        admin_client,
        "/staff/elections/new",
        {
            "code": "ps2029",
            "name_cs": "Volby do PS 2029",
            "name_en": "Chamber 2029",
            "kind": "chamber",
            "status": "tentative",
            "first_voting_day": "2029-10-05",
        },
    )
    assert response.status_code == 302
    election = reload("ps2029")
    assert election.application_deadline_day == date(2029, 9, 21)
    assert len(election.rounds) == 1


def test_new_election_with_a_taken_or_bad_code_is_refused(admin_client):
    for code in ["prez2028", "PREZ", "a", "x; drop table"]:
        response = post_form(
            admin_client,
            "/staff/elections/new",
            {
                "code": code,
                "name_cs": "X",
                "name_en": "X",
                "kind": "chamber",
                "status": "tentative",
                "first_voting_day": "2029-10-05",
            },
        )
        assert response.status_code == 200 and 'id="code-error-1"' in response.get_data(as_text=True), code


def test_public_election_page_shows_czech_dates_and_english_on_request(client):
    seed_elections(date(2026, 11, 23))
    db.session.commit()
    czech = client.get("/elections/prez2023").get_data(as_text=True)
    assert "23. 12. 2022" in czech and "14. 1. 2023 14:00" in czech
    post_form(client, "/language", {"language": "en"})
    english = client.get("/elections/prez2023").get_data(as_text=True)
    assert "23 Dec 2022" in english and "14 Jan 2023, 14:00" in english


def test_home_page_lists_the_open_election_with_its_deadline(client):
    seed_elections(date(2026, 11, 23))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "/elections/prez2028" in html and "31. 12. 2027" in html
    assert "/elections/prez2023" not in html  # long closed


def test_time_left_uses_the_plural_forms_of_the_language(app):
    from datetime import timedelta

    from flask_babel import force_locale

    from portal.templating import format_time_left

    with app.test_request_context():
        with force_locale("en"):
            assert format_time_left(timedelta(days=1, hours=1)) == "1 day and 1 hour left"
            assert format_time_left(timedelta(days=3, hours=5)) == "3 days and 5 hours left"
            assert format_time_left(timedelta(hours=2)) == "2 hours left"
        with force_locale("cs"):
            czech = [format_time_left(timedelta(days=n)) for n in (1, 3, 5)]
            assert len(set(czech)) == 3 and all(str(n) in text for n, text in zip((1, 3, 5), czech, strict=True))


def test_moving_the_deadline_needs_a_reason_that_goes_to_the_audit_log(admin_client):
    from sqlalchemy import select

    from portal.audit.models import AuditEvent

    refused = post_form(admin_client, "/staff/elections/prez2028/edit", edit_form(application_deadline="2028-01-07"))
    assert refused.status_code == 200 and 'id="change_reason-error-1"' in refused.get_data(as_text=True)
    assert reload("prez2028").application_deadline_day == date(2027, 12, 31)

    extended = post_form(
        admin_client,
        "/staff/elections/prez2028/edit",
        edit_form(application_deadline="2028-01-07", change_reason="Prodloužení na žádost médií"),
    )
    assert extended.status_code == 302
    assert reload("prez2028").application_deadline_day == date(2028, 1, 7)
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "election.updated")).all()[-1]
    assert event.reason == "Prodloužení na žádost médií"
    assert event.before["applications_close_at"] != event.after["applications_close_at"]
