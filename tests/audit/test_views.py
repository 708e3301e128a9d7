"""The staff pages: browse with filters, page through, export CSV; outlets never see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from portal.accounts.models import Role
from portal.audit.service import record
from portal.extensions import db
from tests.factories import sign_in


@pytest.fixture
def staff_client(client, make_staff):  # type: ignore[no-untyped-def]
    reviewer = make_staff(role=Role.REVIEWER, email="reviewer@czso.example")
    db.session.commit()
    sign_in(client, reviewer)
    return client


@pytest.fixture
def varied_events(app, make_staff):  # type: ignore[no-untyped-def]
    """Four events: two actors, two subjects, around midnight in Prague on 29 March 2026; their ids in order
    (the log also holds the creation of the staff accounts, recorded before them)."""
    admin = make_staff(role=Role.ADMIN, email="admin@czso.example")
    first = record(
        "organisation.updated",
        ("organisations", 7),
        actor=admin,
        at=datetime(2026, 3, 27, 12, tzinfo=UTC),
        before={"name": "Staré jméno"},
        after={"name": "Nové jméno"},
        client_address="192.0.2.1",
    )
    # 23:30 UTC on 28 March is 00:30 on 29 March in Prague (still winter time).
    record("organisation.registered", ("organisations", 8), actor=None, at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    record(
        "election.updated",
        ("elections", 1),
        actor=admin,
        at=datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 summer time, still 29 March
        before={"status": "tentative"},
        after={"status": "announced"},
    )
    record(
        "application.rejected",
        ("applications", 3),
        actor=None,
        at=datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
        reason='=HYPERLINK("http://evil.example")',
        actor_label="cli",
    )
    db.session.commit()
    return list(range(first.id, first.id + 4))


def event_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]


def page(client, **query: object) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/staff/audit", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def nth(events: list[int], numbers: list[int]) -> list[int]:
    """The ids of the fixture's events by their number, 1 to 4."""
    return [events[number - 1] for number in numbers]


def test_staff_see_the_log_newest_first_with_the_changes(staff_client, varied_events):
    html = page(staff_client)
    shown = event_ids(html)
    assert shown[:4] == nth(varied_events, [4, 3, 2, 1])
    # Before them: the staff accounts' creation (the reviewer's, then the admin's).
    assert len(shown) == 6 and shown[4:] == sorted(shown[4:], reverse=True) and "user.staff_created" in html
    assert "Staré jméno" in html and "Nové jméno" in html and "admin@czso.example" in html
    assert "192.0.2.1" in html and "organisation.updated" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "organisation."}, [2, 1]),
        ({"action": "election.updated"}, [3]),
        ({"action": "organisation.%"}, []),  # a prefix, not a pattern
        ({"subject_type": "organisations", "subject_id": "8"}, [2]),
        ({"subject_type": "elections"}, [3]),
        ({"actor": "ADMIN@czso"}, [3, 1]),
        ({"actor": "cli"}, [4]),
        ({"date_from": "2026-03-29", "date_to": "2026-03-29"}, [3, 2]),
        ({"date_to": "2026-03-28"}, [1]),
    ],
)
def test_filters(staff_client, varied_events, query, expected):
    assert event_ids(page(staff_client, **query)) == nth(varied_events, expected)


def test_a_range_open_to_today_ends_with_the_newest(staff_client, varied_events):
    html = page(staff_client, date_from="2026-03-30")
    # Event 4, and the two staff accounts created for this test today (recorded before the fixture's events).
    shown = event_ids(html)
    assert shown[0] == varied_events[3] and len(shown) == 3 and all(n < varied_events[0] for n in shown[1:])


def test_a_reversed_date_range_is_explained(staff_client, varied_events):
    html = page(staff_client, date_from="2026-03-29", date_to="2026-03-28")
    assert 'class="error-summary"' in html and 'id="date_to-error-1"' in html
    assert event_ids(html) == []
    assert staff_client.get("/staff/audit/export.csv?date_from=2026-03-29&date_to=2026-03-28").status_code == 400


def test_pages_of_fifty_keep_the_filter(staff_client, make_events):
    things = [event.id for event in make_events(55, action="thing.changed")]
    make_events(3, action="other.changed", start=56)
    first = page(staff_client, action="thing.")
    assert event_ids(first) == things[:4:-1]
    next_link = re.search(r'href="(/staff/audit\?[^"]*page=2[^"]*)"', first)
    assert next_link and "action=thing." in next_link.group(1)
    assert event_ids(page(staff_client, action="thing.", page=2)) == things[4::-1]


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_export_is_csv_for_excel_with_the_same_filters(staff_client, varied_events):
    response = staff_client.get("/staff/audit/export.csv?action=organisation.")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = read_csv(response)
    assert rows[0][:5] == ["id", "occurred_at_utc", "actor_id", "actor", "action"]
    assert [row[0] for row in rows[1:]] == [str(n) for n in nth(varied_events, [1, 2])]  # oldest first
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["occurred_at_utc"] == "2026-03-27T12:00:00Z"
    assert first["actor"] == "admin@czso.example" and first["subject_id"] == "7"
    assert first["before"] == '{"name": "Staré jméno"}' and first["after"] == '{"name": "Nové jméno"}'
    assert len(first["hash"]) == 64


def test_the_export_defuses_spreadsheet_formulas(staff_client, varied_events):
    rows = read_csv(staff_client.get("/staff/audit/export.csv?action=application."))
    assert dict(zip(rows[0], rows[1], strict=True))["reason"] == '\'=HYPERLINK("http://evil.example")'


def test_the_export_streams_a_long_log(staff_client, make_events):
    make_events(450)
    response = staff_client.get("/staff/audit/export.csv", buffered=False)
    assert response.is_streamed
    rows = read_csv(response)
    # A header, the reviewer's creation, then the 450.
    assert len(rows) == 452 and [row[4] for row in rows[1:3]] == ["user.staff_created", "thing.changed"]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
def test_reviewers_and_admins_may_read(client, make_staff, role):
    staff = make_staff(role=role)
    db.session.commit()
    sign_in(client, staff)
    assert client.get("/staff/audit").status_code == 200
    assert client.get("/staff/audit/export.csv").status_code == 200


def test_operations_staff_are_refused_the_log_of_personal_data(client, make_staff):
    staff = make_staff(role=Role.OPS)
    db.session.commit()
    sign_in(client, staff)
    assert client.get("/staff/audit").status_code == 403
    assert client.get("/staff/audit/export.csv").status_code == 403


def test_an_applicant_is_refused(client, make_applicant, varied_events):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    assert client.get("/staff/audit").status_code == 403
    assert client.get("/staff/audit/export.csv").status_code == 403


def test_staff_navigation_links_the_log(staff_client):
    assert 'href="/staff/audit"' in page(staff_client)
