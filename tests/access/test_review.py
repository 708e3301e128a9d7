"""Staff review: the queue, decisions, bulk approval, the export; the outlet never sees the reason."""

import csv
import io

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from portal.registration.models import Application, VersionState
from tests.factories import post_form, sign_in


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def reviewer(client, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    return staff


def reload(application_id):
    db.session.expire_all()
    return db.session.get(Application, application_id)


def test_queue_lists_waiting_applications_first_and_flags_conflicts(client, reviewer, election, make_application):
    approved = make_application(election, production=["192.0.2.1"], state="approved", staff=reviewer)
    waiting = make_application(election, production=["192.0.2.1", "192.0.2.2"], state="submitted")
    make_application(election, production=["192.0.2.3"])  # a draft: not the office's business yet
    db.session.commit()
    by_default = client.get("/staff/applications").get_data(as_text=True)
    assert waiting.reference in by_default and approved.reference not in by_default  # the default: waiting
    html = client.get("/staff/applications?state=").get_data(as_text=True)  # any state
    assert html.index(waiting.reference) < html.index(approved.reference)
    assert 'class="conflict"' in html
    only_conflicts = client.get("/staff/applications?conflicts=y").get_data(as_text=True)
    assert waiting.reference in only_conflicts
    waiting_only = client.get(f"/staff/applications?state=submitted&election={election.code}").get_data(as_text=True)
    assert waiting.reference in waiting_only and approved.reference not in waiting_only
    assert client.get("/staff/applications?state=nonsense&election=nope").status_code == 200


def test_approve_and_the_outlet_is_told(client, reviewer, election, make_application, mailbox):
    application = make_application(election, state="submitted")
    db.session.commit()
    response = post_form(client, f"/staff/applications/{application.id}/approve", {"version": 1})
    assert response.status_code == 302
    assert reload(application.id).latest.state is VersionState.APPROVED
    mail = mailbox.wait_for(application.created_by.email)
    assert "schválena" in mail["Subject"] or "approved" in mail["Subject"]


def test_rejection_reason_stays_internal(client, reviewer, election, make_application, mailbox):
    application = make_application(election, state="submitted")
    db.session.commit()
    post_form(
        client,
        f"/staff/applications/{application.id}/reject",
        {"version": 1, "internal_reason": "Neznámé médium, ověřit IČO"},
    )
    assert reload(application.id).latest.internal_reason == "Neznámé médium, ověřit IČO"
    mail = mailbox.wait_for(application.created_by.email)
    assert "Neznámé médium" not in mail.get_body().get_content()


def test_a_decision_on_a_decided_version_is_refused_not_ignored(client, reviewer, election, make_application):
    application = make_application(election, state="approved", staff=reviewer)
    db.session.commit()
    response = post_form(client, f"/staff/applications/{application.id}/reject", {"version": 1})
    assert response.status_code == 302
    assert reload(application.id).latest.state is VersionState.APPROVED
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "notice-error" in follow


def test_staff_revoke_an_approval_after_confirming(client, reviewer, election, make_application, mailbox):
    application = make_application(election, production=["192.0.2.41"], state="approved", staff=reviewer)
    db.session.commit()
    url = f"/staff/applications/{application.id}"
    page = client.get(url).get_data(as_text=True)
    assert f'action="{url}/revoke"' in page and 'name="revoke-version" type="hidden" value="1"' in page

    unconfirmed = post_form(client, f"{url}/revoke", {"revoke-version": 1, "revoke-internal_reason": "x"})
    assert unconfirmed.status_code == 302
    assert reload(application.id).in_force is not None
    assert "notice-error" in client.get(unconfirmed.headers["Location"]).get_data(as_text=True)

    data = {"revoke-version": 1, "revoke-internal_reason": "Necituje zdroj", "revoke-confirm": "y"}
    revoked = post_form(client, f"{url}/revoke", data)
    assert revoked.status_code == 302
    application = reload(application.id)
    assert application.in_force is None and application.latest.state is VersionState.REJECTED
    assert application.latest.internal_reason == "Necituje zdroj"
    follow = client.get(revoked.headers["Location"]).get_data(as_text=True)
    assert "notice-success" in follow and f'action="{url}/revoke"' not in follow
    mail = mailbox.wait_for(application.created_by.email)
    assert "192.0.2.41" in mail.get_body().get_content() and "Necituje" not in mail.get_body().get_content()

    twice = post_form(client, f"{url}/revoke", data)
    assert "notice-error" in client.get(twice.headers["Location"]).get_data(as_text=True)


def test_a_revocation_of_a_version_no_longer_in_force_changes_nothing(client, reviewer, election, make_application):
    """Staff looked at version 1; meanwhile version 2 was approved. Revoking "1" must not revoke 2 unseen."""
    application = make_application(election, production=["192.0.2.42"], state="approved", staff=reviewer)
    db.session.commit()
    response = post_form(
        client, f"/staff/applications/{application.id}/revoke", {"revoke-version": 2, "revoke-confirm": "y"}
    )
    assert response.status_code == 302
    assert reload(application.id).latest.state is VersionState.APPROVED
    assert "notice-error" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_conflict_needs_the_acknowledgement(client, reviewer, election, make_application):
    make_application(election, production=["192.0.2.5"], state="submitted")
    second = make_application(election, production=["192.0.2.5"], state="submitted")
    db.session.commit()
    post_form(client, f"/staff/applications/{second.id}/approve", {"version": 1})
    assert reload(second.id).latest.state is VersionState.SUBMITTED
    post_form(client, f"/staff/applications/{second.id}/approve", {"version": 1, "acknowledge_conflicts": "y"})
    assert reload(second.id).latest.state is VersionState.APPROVED


def test_bulk_approval_skips_conflicts_and_decided_ones(client, reviewer, election, make_application):
    clean = [make_application(election, production=[f"192.0.2.{i}"], state="submitted") for i in (1, 2)]
    clash = [make_application(election, production=["192.0.2.9"], state="submitted") for _ in (1, 2)]
    db.session.commit()
    ids = [a.id for a in clean + clash]
    response = post_form(client, "/staff/applications/bulk-approve", {"application": ids})
    assert response.status_code == 302
    states = [reload(i).latest.state for i in ids]
    assert states == [VersionState.APPROVED] * 2 + [VersionState.SUBMITTED] * 2


def test_csv_export_lists_the_addresses_in_force(client, reviewer, election, make_application):
    make_application(election, production=["192.0.2.1"], test=["198.51.100.1"], state="approved", staff=reviewer)
    make_application(election, production=["192.0.2.2"], state="submitted")
    db.session.commit()
    response = client.get(f"/staff/elections/{election.code}/approved.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-2:] == ["kind", "address"]
    assert sorted(r[-1] for r in rows[1:]) == ["192.0.2.1", "198.51.100.1"]


def test_csv_export_neutralises_a_formula_in_an_organisation_name(client, reviewer, election, make_application):
    application = make_application(election, production=["192.0.2.1"], state="approved", staff=reviewer)
    application.organisation.name = '=HYPERLINK("http://evil.example","klikni")'
    db.session.commit()
    response = client.get(f"/staff/elections/{election.code}/approved.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["organisation"] == '\'=HYPERLINK("http://evil.example","klikni")'
    assert rows[0]["contact_phone"] == "+420274051111"  # a phone number is not a formula


def test_admin_switch_allows_documentation_addresses(client, make_staff):
    from portal.access.service import address_policy

    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    assert address_policy().allow_documentation is False
    post_form(client, "/staff/settings/addresses", {"allow_ipv6": "y", "allow_documentation": "y"})
    db.session.expire_all()
    assert address_policy().allow_documentation is True and address_policy().allow_ipv6 is True
    post_form(client, "/staff/settings/addresses", {})
    db.session.expire_all()
    assert address_policy().allow_ipv6 is False


def test_queue_with_many_applications_does_not_query_per_row(client, reviewer, election, make_application):
    from sqlalchemy import event

    for i in range(30):
        make_application(election, production=[f"192.0.2.{i + 1}"], state="submitted")
    db.session.commit()
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    # The request runs on its own app and engine: listen on the engine class's events for this app.
    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/staff/applications").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert 0 < len(statements) < 20, len(statements)


def test_queue_pages_hold_fifty_and_keep_the_filters(client, reviewer, election, make_application):
    from portal.access.queries import PAGE_SIZE, review_queue

    applications = [
        make_application(election, production=[f"192.0.2.{i % 250 + 1}"], state="submitted")
        for i in range(PAGE_SIZE + 10)
    ]
    db.session.commit()
    first, second = review_queue(page=1), review_queue(page=2)
    assert (len(first.rows), len(second.rows), first.total, first.pages) == (PAGE_SIZE, 10, PAGE_SIZE + 10, 2)
    listed = [row.application.id for row in first.rows + second.rows]
    assert sorted(listed) == sorted(a.id for a in applications) and len(set(listed)) == len(listed)
    html = client.get(f"/staff/applications?election={election.code}&page=2").get_data(as_text=True)
    assert f"election={election.code}" in html and "page=1" in html
    assert client.get("/staff/applications?page=999").status_code == 200
    assert client.get("/staff/applications?page=abc").status_code == 200
