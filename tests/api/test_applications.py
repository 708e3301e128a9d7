"""The outlet's side and the office's decisions over the API: happy paths, every refusal, isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.registration.models import Application, ApplicationVersion, VersionState
from tests.api.conftest import call, error_code

COMPLETE = {
    "contact_email": "redakce@outlet.example",
    "contact_phone": "274 051 111",
    "production": ["192.0.2.10", " 192.0.2.11 "],
    "test": ["2001:DB8::5"],
    "accept_terms": True,
    "note": "Příliš žluťoučký kůň",
}


@pytest.fixture
def outlet(make_applicant, make_election, make_token, documentation_addresses):
    """An applicant with a token, and an election open for applications."""
    election = make_election(code="prez2099")
    applicant = make_applicant()
    _token, secret = make_token(applicant)
    db.session.commit()
    return applicant, election, secret


@pytest.fixture
def reviewer(make_staff, make_token):
    staff = make_staff(role=Role.REVIEWER)
    _token, secret = make_token(staff)
    db.session.commit()
    return staff, secret


def create(client, secret, **body):
    return call(client, "POST", "/api/v1/applications", secret=secret, json={"election": "prez2099", **body})


# Happy paths -----------------------------------------------------------------------------------------


def test_an_outlet_applies_and_submits_in_one_call(client, outlet, mailbox):
    applicant, _election, secret = outlet
    response = create(client, secret, **COMPLETE, submit=True)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/applications/{body['id']}")
    assert body["state"] == "submitted" and body["version"] == 1 and body["in_force_version"] is None
    assert body["reference"] == f"prez2099-{body['id']:04d}"
    assert body["organisation"]["id"] == applicant.organisation_id
    version = body["versions"][0]
    assert version["production"] == ["192.0.2.10", "192.0.2.11"]
    assert version["test"] == ["2001:db8::5"]  # canonical
    assert version["contact_phone"] == "+420274051111"
    assert version["note"] == "Příliš žluťoučký kůň"
    assert version["accept_terms"] is True and version["terms_version"]
    assert version["submitted_at"].endswith("Z") and len(version["content_sha256"]) == 64
    assert "internal_reason" not in version and "conflicts" not in body
    receipt = mailbox.wait_for("redakce@outlet.example")
    assert body["reference"] in receipt["Subject"]


def test_a_draft_is_saved_replaced_and_then_submitted(client, outlet):
    _applicant, _election, secret = outlet
    created = create(client, secret, production=["192.0.2.20"])
    assert created.status_code == 201 and created.get_json()["state"] == "draft"
    url = f"/api/v1/applications/{created.get_json()['id']}"

    replaced = call(client, "PUT", url, secret=secret, json=COMPLETE)
    assert replaced.status_code == 200
    assert replaced.get_json()["versions"][0]["production"] == ["192.0.2.10", "192.0.2.11"]

    emptied = call(client, "PUT", url, secret=secret, json={"production": ["192.0.2.30"]})
    assert emptied.get_json()["versions"][0]["contact_email"] == ""  # PUT replaces: left out is empty
    call(client, "PUT", url, secret=secret, json=COMPLETE)

    submitted = call(client, "POST", f"{url}/submit", secret=secret)
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    assert call(client, "GET", url, secret=secret).get_json()["state"] == "submitted"


def test_list_filters_by_election_and_state(client, outlet, make_election, make_application):
    applicant, election, secret = outlet
    other_election = make_election(code="kv2099")
    make_application(election, applicant, production=["192.0.2.1"], state="submitted")
    make_application(other_election, applicant, production=["192.0.2.2"])
    db.session.commit()

    every = call(client, "GET", "/api/v1/applications", secret=secret).get_json()
    assert every["total"] == 2 and len(every["applications"]) == 2
    assert every["page"] == 1 and every["per_page"] == 100
    submitted = call(client, "GET", "/api/v1/applications?state=submitted", secret=secret).get_json()
    assert [a["election"] for a in submitted["applications"]] == ["prez2099"]
    drafts = call(client, "GET", "/api/v1/applications?election=kv2099&state=draft", secret=secret).get_json()
    assert [a["election"] for a in drafts["applications"]] == ["kv2099"]
    paged = call(client, "GET", "/api/v1/applications?per_page=1&page=2", secret=secret).get_json()
    assert paged["total"] == 2 and len(paged["applications"]) == 1


def test_bad_list_filters_are_422(client, outlet):
    _applicant, _election, secret = outlet
    response = call(client, "GET", "/api/v1/applications?election=nope&state=pending&page=0", secret=secret)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    fields = response.get_json()["error"]["fields"]
    assert {name: f["code"] for name, f in fields.items()} == {
        "election": "unknown_election",
        "state": "invalid_choice",
        "page": "not_a_positive_integer",
    }


def test_withdraw_and_amend(client, outlet, make_application, reviewer):
    applicant, election, secret = outlet
    staff, _staff_secret = reviewer
    application = make_application(election, applicant, production=["192.0.2.40"], state="approved", staff=staff)
    db.session.commit()
    url = f"/api/v1/applications/{application.id}"

    amended = call(client, "POST", f"{url}/amend", secret=secret)
    assert amended.status_code == 200
    body = amended.get_json()
    assert [v["state"] for v in body["versions"]] == ["approved", "draft"]
    assert body["in_force_version"] == 1 and body["versions"][1]["production"] == ["192.0.2.40"]

    withdrawn = call(client, "POST", f"{url}/withdraw", secret=secret, data=b"{}")
    assert withdrawn.status_code == 200
    assert [v["state"] for v in withdrawn.get_json()["versions"]] == ["withdrawn", "withdrawn"]


def test_staff_see_every_application_and_approve(client, outlet, make_application, make_applicant, reviewer):
    applicant, election, _secret = outlet
    _staff, staff_secret = reviewer
    mine = make_application(election, applicant, production=["192.0.2.50"], state="submitted")
    theirs = make_application(election, make_applicant(), production=["192.0.2.51"], state="submitted")
    db.session.commit()

    listed = call(client, "GET", "/api/v1/applications?state=submitted", secret=staff_secret).get_json()
    assert {a["id"] for a in listed["applications"]} == {mine.id, theirs.id}

    approved = call(client, "POST", f"/api/v1/applications/{mine.id}/approve", secret=staff_secret, json={})
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["state"] == "approved" and body["in_force_version"] == 1
    assert body["versions"][0]["decided_at"].endswith("Z") and body["conflicts"] == []


def test_conflicting_addresses_need_an_acknowledgement(client, outlet, make_application, make_applicant, reviewer):
    applicant, election, _secret = outlet
    _staff, staff_secret = reviewer
    make_application(election, make_applicant(), production=["192.0.2.60"], state="submitted")
    contested = make_application(election, applicant, production=["192.0.2.60"], state="submitted")
    db.session.commit()
    url = f"/api/v1/applications/{contested.id}"

    detail = call(client, "GET", url, secret=staff_secret).get_json()
    assert [c["address"] for c in detail["conflicts"]] == ["192.0.2.60"]
    refused = call(client, "POST", f"{url}/approve", secret=staff_secret, json={"acknowledge_conflicts": False})
    assert refused.status_code == 409 and error_code(refused) == "conflicts_not_acknowledged"
    assert "192.0.2.60" in refused.get_json()["error"]["message"]
    assert call(client, "GET", url, secret=staff_secret).get_json()["state"] == "submitted"

    approved = call(client, "POST", f"{url}/approve", secret=staff_secret, json={"acknowledge_conflicts": True})
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"


def test_the_internal_reason_of_a_rejection_is_never_shown_to_the_outlet(client, outlet, make_application, reviewer):
    applicant, election, secret = outlet
    _staff, staff_secret = reviewer
    application = make_application(election, applicant, production=["192.0.2.70"], state="submitted")
    db.session.commit()
    reason = "Podezřelá redakce – interní poznámka"
    url = f"/api/v1/applications/{application.id}"

    rejected = call(client, "POST", f"{url}/reject", secret=staff_secret, json={"internal_reason": reason})
    assert rejected.status_code == 200
    assert rejected.get_json()["versions"][0]["internal_reason"] == reason  # staff see it

    for outlet_view in (
        call(client, "GET", url, secret=secret),
        call(client, "GET", "/api/v1/applications", secret=secret),
        call(client, "GET", "/api/v1/applications?state=rejected", secret=secret),
    ):
        text = outlet_view.get_data(as_text=True)
        assert outlet_view.status_code == 200 and "rejected" in text
        assert "Podezřelá" not in text and "internal_reason" not in text
    assert call(client, "POST", f"{url}/withdraw", secret=secret).status_code == 409  # nothing left to withdraw


def test_staff_revoke_an_approval_and_the_outlet_sees_no_reason(client, outlet, make_application, reviewer):
    applicant, election, secret = outlet
    staff, staff_secret = reviewer
    application = make_application(election, applicant, production=["192.0.2.71"], state="approved", staff=staff)
    db.session.commit()
    url = f"/api/v1/applications/{application.id}"

    too_long = call(client, "POST", f"{url}/revoke", secret=staff_secret, json={"internal_reason": "x" * 2001})
    assert too_long.status_code == 422
    assert call(client, "GET", url, secret=secret).get_json()["state"] == "approved"

    revoked = call(client, "POST", f"{url}/revoke", secret=staff_secret, json={"internal_reason": "Nečtivá redakce"})
    assert revoked.status_code == 200
    body = revoked.get_json()
    assert body["state"] == "rejected" and body["in_force_version"] is None
    assert body["versions"][0]["internal_reason"] == "Nečtivá redakce"
    outlet_view = call(client, "GET", url, secret=secret)
    assert outlet_view.get_json()["state"] == "rejected" and "Nečtivá" not in outlet_view.get_data(as_text=True)
    again = call(client, "POST", f"{url}/revoke", secret=staff_secret)
    assert again.status_code == 409 and error_code(again) == "illegal_transition"


def test_a_reason_longer_than_2000_characters_is_refused(client, outlet, make_application, reviewer):
    applicant, election, _secret = outlet
    _staff, staff_secret = reviewer
    application = make_application(election, applicant, state="submitted")
    db.session.commit()
    response = call(
        client,
        "POST",
        f"/api/v1/applications/{application.id}/reject",
        secret=staff_secret,
        json={"internal_reason": "x" * 2001},
    )
    assert response.status_code == 422 and response.get_json()["error"]["fields"]["internal_reason"]["code"] == (
        "too_long"
    )


# Refusals ------------------------------------------------------------------------------------------------


def test_invalid_content_is_422_with_the_service_s_codes(client, outlet):
    _applicant, _election, secret = outlet
    response = create(
        client,
        secret,
        contact_email="not an address",
        production=["10.0.0.1"],
        test=[f"192.0.2.{n}" for n in range(100, 106)],
        submit=True,
    )
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    fields = response.get_json()["error"]["fields"]
    assert fields["production"]["code"] == "address_private"
    assert "10.0.0.1" in fields["production"]["message"]
    assert fields["test"]["code"] == "too_many"
    assert fields["contact_email"]["code"] == "invalid_email"
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0  # all or nothing


def test_submitting_an_incomplete_draft_names_the_missing_fields(client, outlet):
    _applicant, _election, secret = outlet
    draft = create(client, secret).get_json()
    response = call(client, "POST", f"/api/v1/applications/{draft['id']}/submit", secret=secret)
    assert response.status_code == 422
    codes = {name: f["code"] for name, f in response.get_json()["error"]["fields"].items()}
    assert codes == dict.fromkeys(["contact_email", "contact_phone", "production", "accept_terms"], "required")


def test_an_unknown_election_is_422(client, outlet):
    _applicant, _election, secret = outlet
    response = call(client, "POST", "/api/v1/applications", secret=secret, json={"election": "nope"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["election"]["code"] == "unknown_election"


def test_after_the_deadline(client, outlet, make_election, make_application):
    applicant, _election, secret = outlet
    past = make_election(code="old2020", deadline=date(2020, 1, 10))
    earlier = make_application(past, applicant, at=datetime(2020, 1, 5, 12, tzinfo=UTC))
    db.session.commit()

    response = call(client, "POST", "/api/v1/applications", secret=secret, json={"election": "old2020"})
    assert response.status_code == 409 and error_code(response) == "deadline_passed"
    replaced = call(client, "PUT", f"/api/v1/applications/{earlier.id}", secret=secret, json=COMPLETE)
    assert replaced.status_code == 409 and error_code(replaced) == "deadline_passed"


def test_the_address_quota_counts_across_applications(client, outlet, make_application):
    applicant, election, secret = outlet
    make_application(election, applicant, production=[f"192.0.2.{n}" for n in (1, 2, 3)], state="submitted")
    second = make_application(election, applicant, production=[f"192.0.2.{n}" for n in (4, 5, 6)])
    db.session.commit()
    response = call(client, "POST", f"/api/v1/applications/{second.id}/submit", secret=secret)
    assert response.status_code == 409 and error_code(response) == "quota_exceeded"
    db.session.expire_all()
    assert db.session.get(Application, second.id).latest.state is VersionState.DRAFT


def test_elections_that_need_a_signature_refuse_submission(client, outlet, make_election):
    _applicant, _election, secret = outlet
    make_election(code="sig2099", signature_required=True)
    db.session.commit()
    response = call(
        client, "POST", "/api/v1/applications", secret=secret, json={"election": "sig2099", **COMPLETE, "submit": True}
    )
    assert response.status_code == 409 and error_code(response) == "signature_required"


def test_illegal_transitions_are_409(client, outlet, make_application, reviewer):
    applicant, election, secret = outlet
    _staff, staff_secret = reviewer
    submitted = make_application(election, applicant, state="submitted")
    draft = make_application(election, applicant, production=["192.0.2.99"])
    db.session.commit()
    url = f"/api/v1/applications/{submitted.id}"
    for method, target, who in [
        ("PUT", url, secret),
        ("POST", f"{url}/submit", secret),
        ("POST", f"{url}/amend", secret),
        ("POST", f"/api/v1/applications/{draft.id}/approve", staff_secret),
        ("POST", f"/api/v1/applications/{draft.id}/reject", staff_secret),
        ("POST", f"/api/v1/applications/{draft.id}/revoke", staff_secret),
        ("POST", f"{url}/revoke", staff_secret),  # submitted, nothing in force yet
    ]:
        response = call(client, method, target, secret=who, json={} if method == "POST" else COMPLETE)
        assert response.status_code == 409 and error_code(response) == "illegal_transition", (method, target)


def test_applicants_may_not_decide(client, outlet, make_application):
    applicant, election, secret = outlet
    own = make_application(election, applicant, state="submitted")
    db.session.commit()
    for action in ("approve", "reject", "revoke"):
        response = call(client, "POST", f"/api/v1/applications/{own.id}/{action}", secret=secret, json={})
        assert response.status_code == 403 and error_code(response) == "forbidden"
    db.session.expire_all()
    assert db.session.get(Application, own.id).latest.state is VersionState.SUBMITTED


def test_operations_staff_neither_read_nor_decide(client, outlet, make_application, make_staff, make_token):
    """Ops run the firewall and the proxies: no outlet's personal data beyond the signed snapshot."""
    applicant, election, _secret = outlet
    application = make_application(election, applicant, state="submitted")
    ops = make_staff(role=Role.OPS)
    _token, ops_secret = make_token(ops)
    db.session.commit()
    response = call(client, "GET", f"/api/v1/applications/{application.id}", secret=ops_secret)
    assert response.status_code == 403 and error_code(response) == "forbidden"
    assert call(client, "GET", "/api/v1/applications", secret=ops_secret).status_code == 403
    response = call(client, "POST", f"/api/v1/applications/{application.id}/approve", secret=ops_secret, json={})
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_staff_cannot_create_applications(client, outlet, reviewer):
    _staff, staff_secret = reviewer
    response = create(client, staff_secret)
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_unknown_application_and_unknown_url(client, outlet, reviewer):
    _applicant, _election, secret = outlet
    _staff, staff_secret = reviewer
    for url in ["/api/v1/applications/424242", "/api/v1/applications/99999999999999999999999", "/api/v1/nothing"]:
        response = call(client, "GET", url, secret=secret)
        assert response.status_code == 404 and error_code(response) == "not_found", url
    response = call(client, "POST", "/api/v1/applications/424242/approve", secret=staff_secret, json={})
    assert response.status_code == 404
    wrong_method = call(client, "DELETE", "/api/v1/applications", secret=secret)
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "method_not_allowed"


# Isolation -----------------------------------------------------------------------------------------------


def test_another_organisation_s_application_does_not_exist_for_an_applicant(
    client, outlet, make_applicant, make_organisation, make_application, make_token
):
    _applicant, election, secret = outlet
    stranger = make_applicant(organisation=make_organisation(name="Cizí redakce s.r.o."))
    theirs_draft = make_application(election, stranger, production=["192.0.2.200"])
    theirs_submitted = make_application(election, stranger, production=["192.0.2.201"], state="submitted")
    db.session.commit()
    before = {
        a.id: [(v.state, v.contact_email, tuple(v.addresses_of("production"))) for v in a.versions]
        for a in (theirs_draft, theirs_submitted)
    }
    version_count = db.session.scalar(select(func.count()).select_from(ApplicationVersion))

    for application in (theirs_draft, theirs_submitted):
        url = f"/api/v1/applications/{application.id}"
        attempts = [
            call(client, "GET", url, secret=secret),
            call(client, "PUT", url, secret=secret, json={**COMPLETE, "production": ["192.0.2.250"]}),
            call(client, "POST", f"{url}/submit", secret=secret),
            call(client, "POST", f"{url}/withdraw", secret=secret),
            call(client, "POST", f"{url}/amend", secret=secret),
        ]
        for response in attempts:
            assert response.status_code == 404 and error_code(response) == "not_found"
            text = response.get_data(as_text=True)
            assert "Cizí redakce" not in text and "192.0.2.20" not in text

    listed = call(client, "GET", "/api/v1/applications", secret=secret).get_json()
    assert listed["applications"] == [] and listed["total"] == 0
    db.session.expire_all()
    after = {
        a.id: [(v.state, v.contact_email, tuple(v.addresses_of("production"))) for v in a.versions]
        for a in (db.session.get(Application, theirs_draft.id), db.session.get(Application, theirs_submitted.id))
    }
    assert after == before
    assert db.session.scalar(select(func.count()).select_from(ApplicationVersion)) == version_count
    # The refusal is about ownership: the stranger reaches the same URL.
    _stranger_token, stranger_secret = make_token(stranger)
    db.session.commit()
    assert call(client, "GET", f"/api/v1/applications/{theirs_draft.id}", secret=stranger_secret).status_code == 200
