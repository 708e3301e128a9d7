"""The staff firewall page: hosts, versions, silence, and what each host's next apply changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from allowlist.snapshot import Entry
from portal.access import allowlist
from portal.access.hosts import Report, ReportStatus, diff_entries, store_report
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from tests.factories import post_form, sign_in

URL = "/staff/elections/prez2099/firewall"


def entry(address: str, kind: str = "production", organisation: str = "ČTK") -> Entry:
    return Entry(address, kind, organisation, 7)  # type: ignore[arg-type]


def test_diff_names_added_and_removed_entries_and_treats_a_kind_change_as_both():
    old = [entry("192.0.2.1"), entry("192.0.2.2", "test"), entry("192.0.2.3")]
    new = [entry("192.0.2.1"), entry("192.0.2.2"), entry("192.0.2.4")]
    diff = diff_entries(old, new)
    assert [(e.address, e.kind) for e in diff.added] == [("192.0.2.2", "production"), ("192.0.2.4", "production")]
    assert [(e.address, e.kind) for e in diff.removed] == [("192.0.2.2", "test"), ("192.0.2.3", "production")]
    assert diff_entries(new, list(reversed(new))).empty


@pytest.fixture
def election(make_election):
    return make_election(code="prez2099")


def applied(election, host: str, version: int, *, at=None) -> None:
    report = Report(host, ReportStatus.APPLIED, version, "testing", utcnow(), 1, {"prod4": 1}, "")
    store_report(election, report, user=None, at=at or utcnow())


def page(app, make_staff, role: Role = Role.OPS):
    user = make_staff(role=role)
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    post_form(client, "/language", {"language": "en"})  # assertions read the English text
    return client.get(URL)


def test_ops_see_each_hosts_version_and_the_change_its_next_apply_makes(app, election, make_application, make_staff):
    staff = make_staff()
    make_application(election, production=["192.0.2.1"], state="approved", staff=staff)
    db.session.commit()
    first = allowlist.publish(election, at=utcnow(), key=allowlist.signing_key())
    applied(election, "xml-1", first.version)
    applied(election, "xml-2", first.version, at=utcnow() - timedelta(hours=1))
    make_application(election, production=["192.0.2.77"], test=["198.51.100.5"], state="approved", staff=staff)
    db.session.commit()

    response = page(app, make_staff)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "xml-1" in html and "xml-2" in html
    assert html.count("192.0.2.77") == 3, "unpublished change + one diff per host"
    assert "198.51.100.5" in html
    assert "192.0.2.1<" not in html, "an address both versions hold is no change"
    assert html.count("(silent)") == 1  # only xml-2 is silent


def test_a_host_on_the_published_version_with_nothing_new_has_no_changes(app, election, make_application, make_staff):
    make_application(election, production=["192.0.2.1"], state="approved", staff=make_staff())
    db.session.commit()
    published = allowlist.publish(election, at=utcnow(), key=allowlist.signing_key())
    applied(election, "xml-1", published.version)
    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    client = app.test_client()
    sign_in(client, admin)
    post_form(client, "/language", {"language": "en"})  # the assertion reads the English text
    html = client.get(URL).get_data(as_text=True)
    assert "Nothing: the host enforces the addresses approved now." in html
    assert "192.0.2.1" not in html


def test_without_reports_the_page_says_so(app, election, make_staff):
    db.session.commit()
    response = page(app, make_staff)
    assert response.status_code == 200
    assert "xml-" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.REVIEWER])
def test_reviewers_do_not_see_the_firewall_page(app, election, make_staff, role):
    db.session.commit()
    assert page(app, make_staff, role).status_code == 403


def test_an_unknown_election_is_a_404(app, make_staff):
    ops = make_staff(role=Role.OPS)
    db.session.commit()
    client = app.test_client()
    sign_in(client, ops)
    assert client.get("/staff/elections/nope2000/firewall").status_code == 404
    assert client.get("/staff/firewall").status_code == 200
