"""Firewall agents report what their host enforces: validation, storage, the audit trail of versions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.access.hosts import FirewallHost, ReportStatus
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.api.conftest import call, error_code

URL = "/api/v1/elections/prez2099/allowlist/reports"


@pytest.fixture
def ops_secret(app, make_election, make_staff, make_token):
    make_election(code="prez2099")
    _token, secret = make_token(make_staff(role=Role.OPS))
    db.session.commit()
    return secret


def report(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "host": "xml-1.volby.example",
        "status": "applied",
        "version": 3,
        "phase": "testing",
        "applied_at": "2099-12-20T10:00:00Z",
        "entries": 4,
        "counts": {"prod4": 2, "test4": 2, "prod6": 0, "test6": 0},
        "detail": "",
    }
    body.update(fields)
    return body


def hosts() -> list[FirewallHost]:
    db.session.expire_all()
    return list(db.session.scalars(select(FirewallHost).order_by(FirewallHost.host)))


def applied_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "firewall.applied")))


def test_a_report_is_stored_as_the_hosts_latest_state(client, ops_secret):
    response = call(client, "POST", URL, ops_secret, json=report())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"host": "xml-1.volby.example", "version": 3, "status": "applied"}
    (host,) = hosts()
    assert (host.version, host.phase, host.entries, host.status) == (3, "testing", 4, ReportStatus.APPLIED)
    assert host.counts == {"prod4": 2, "test4": 2, "prod6": 0, "test6": 0}
    assert host.applied_at.isoformat() == "2099-12-20T10:00:00+00:00"


def test_a_heartbeat_updates_the_time_and_an_error_keeps_the_version_in_force(client, ops_secret):
    call(client, "POST", URL, ops_secret, json=report())
    first_seen = hosts()[0].last_report_at
    heartbeat = call(client, "POST", URL, ops_secret, json=report(status="unchanged"))
    assert heartbeat.status_code == 201
    refused = report(status="refused", version=None, phase=None, applied_at=None, entries=None, counts={})
    refused["detail"] = "signature: the signature does not verify with the configured key"
    assert call(client, "POST", URL, ops_secret, json=refused).status_code == 201
    (host,) = hosts()
    assert host.status == ReportStatus.REFUSED and host.detail.startswith("signature:")
    assert host.version == 3 and host.entries == 4, "a refusal does not erase what the host enforces"
    assert host.last_report_at >= first_seen


def test_only_a_change_of_the_version_in_force_is_audited(client, ops_secret):
    for body in (report(), report(status="unchanged"), report(version=4), report(host="xml-2")):
        assert call(client, "POST", URL, ops_secret, json=body).status_code == 201
    events = applied_events()
    assert [(e.after["host"], e.after["version"]) for e in events] == [
        ("xml-1.volby.example", 3),
        ("xml-1.volby.example", 4),
        ("xml-2", 3),
    ]
    assert [h.host for h in hosts()] == ["xml-1.volby.example", "xml-2"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"host": "xml 1; rm -rf"}, "host", "invalid_host"),
        ({"host": ""}, "host", "invalid_host"),
        ({"host": "<b>x</b>"}, "host", "invalid_host"),
        ({"status": "ok"}, "status", "invalid_choice"),
        ({"version": 0}, "version", "not_a_positive_integer"),
        ({"version": "3"}, "version", "not_a_positive_integer"),
        ({"version": True}, "version", "not_a_positive_integer"),
        ({"entries": -1}, "entries", "not_a_count"),
        ({"phase": "night"}, "phase", "invalid_choice"),
        ({"applied_at": "yesterday"}, "applied_at", "not_an_instant"),
        ({"applied_at": "2099-12-20T10:00:00"}, "applied_at", "not_an_instant"),
        ({"counts": {"prod4": -1}}, "counts", "invalid_counts"),
        ({"counts": {"drop table": 1}}, "counts", "invalid_counts"),
        ({"counts": [1, 2]}, "counts", "invalid_counts"),
        ({"detail": 5}, "detail", "not_a_string"),
        ({"extra": 1}, "extra", "unknown_field"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_stored(client, ops_secret, fields, field, code):
    response = call(client, "POST", URL, ops_secret, json=report(**fields))
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert response.get_json()["error"]["fields"][field]["code"] == code
    assert hosts() == [] and applied_events() == []


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b"\xff\xfe", b'{"host": NaN}'])
def test_a_body_that_is_not_a_json_object_is_a_400(client, ops_secret, body):
    response = call(client, "POST", URL, ops_secret, data=body)
    assert response.status_code == 400 and error_code(response) == "malformed_json"
    assert hosts() == []


def test_an_unknown_election_is_a_404(client, ops_secret):
    response = call(client, "POST", "/api/v1/elections/prez1999/allowlist/reports", ops_secret, json=report())
    assert response.status_code == 404 and hosts() == []


def test_a_reviewer_may_not_report(client, ops_secret, make_staff, make_token):
    _token, secret = make_token(make_staff(role=Role.REVIEWER))
    db.session.commit()
    response = call(client, "POST", URL, secret, json=report())
    assert response.status_code == 403 and hosts() == []
