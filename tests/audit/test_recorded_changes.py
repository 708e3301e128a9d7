"""Account and election changes made through the pages leave audit events, in the same commit."""

from __future__ import annotations

import re
from datetime import date

import pyotp
import sqlalchemy as sa

from portal.accounts import tokens
from portal.accounts.models import Role, User
from portal.audit.models import AuditEvent
from portal.audit.service import verify_chain
from portal.elections.seed import seed_elections
from portal.extensions import db
from tests.factories import post_form, sign_in


def events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


ORGANISATION_FORM = {
    "organisation_name": "Rádio Vysočina s.r.o.",
    "ico": "00027383",
    "address": "Nová 2, Jihlava",
    "website": "https://radio.example",
}


def test_editing_an_organisation_records_before_and_after(client, make_applicant, make_organisation):
    organisation = make_organisation(name="Rádio Jih", ico="47114983")
    applicant = make_applicant(organisation=organisation)
    db.session.commit()
    sign_in(client, applicant)
    old_address = organisation.address

    response = post_form(client, f"/organisations/{organisation.id}/edit", ORGANISATION_FORM)

    assert response.status_code == 302
    [event] = events("organisation.updated")
    assert (event.subject_type, event.subject_id) == ("organisations", str(organisation.id))
    assert (event.actor_id, event.actor_label) == (applicant.id, applicant.email)
    assert event.before == {"name": "Rádio Jih", "ico": "47114983", "address": old_address, "website": ""}
    assert event.after == {
        "name": "Rádio Vysočina s.r.o.",
        "ico": "00027383",
        "address": "Nová 2, Jihlava",
        "website": "https://radio.example",
    }
    assert event.client_address == "127.0.0.1"
    assert verify_chain().ok


def test_saving_an_unchanged_organisation_records_nothing(client, make_applicant, make_organisation):
    organisation = make_organisation(name="Rádio Jih", ico="47114983")
    applicant = make_applicant(organisation=organisation)
    db.session.commit()
    sign_in(client, applicant)
    unchanged = {"organisation_name": "Rádio Jih", "ico": "47114983", "address": organisation.address, "website": ""}
    assert post_form(client, f"/organisations/{organisation.id}/edit", unchanged).status_code == 302
    assert events("organisation.updated") == []


def test_a_refused_edit_records_nothing(client, make_applicant, make_organisation):
    make_organisation(ico="00027383")
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    response = post_form(client, f"/organisations/{applicant.organisation_id}/edit", ORGANISATION_FORM)
    assert response.status_code == 200
    assert events("organisation.updated") == []


def test_sign_up_confirmation_and_password_reset_are_recorded(client, mailbox):
    signup = {
        **ORGANISATION_FORM,
        "email": "redakce@radio.example",
        "password": "a long enough password",
        "password_again": "a long enough password",
        "language": "cs",
    }
    assert post_form(client, "/signup", signup).status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == "redakce@radio.example"))
    [registered] = events("organisation.registered")
    assert (registered.subject_type, registered.subject_id) == ("organisations", str(user.organisation_id))
    assert registered.actor_id == user.id and registered.before is None
    assert registered.after["name"] == "Rádio Vysočina s.r.o." and registered.after["applicant"] == user.email

    link = f"/confirm/{tokens.confirmation_token(user)}"
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 302  # a second click changes nothing and records nothing
    [confirmed] = events("user.email_confirmed")
    assert (confirmed.subject_type, confirmed.subject_id, confirmed.actor_id) == ("users", str(user.id), user.id)

    db.session.refresh(user)
    reset = f"/reset/{user.id}/{tokens.reset_token(user)}"
    new_password = {"password": "another long password", "password_again": "another long password"}
    assert post_form(client, reset, new_password).status_code == 302
    [changed] = events("user.password_changed")
    assert changed.subject_id == str(user.id) and changed.before is None and changed.after is None
    assert "password" not in str([e.before for e in events()] + [e.after for e in events()])
    assert verify_chain().ok and verify_chain().events_checked == 3


def test_enrolling_the_second_factor_is_recorded(client, make_staff):
    user = make_staff(role=Role.OPS, second_factor=False)
    db.session.commit()
    sign_in(client, user)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', client.get("/account/second-factor").text).group(1)
    assert post_form(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    [enrolled] = events("user.second_factor_enrolled")
    assert (enrolled.subject_type, enrolled.subject_id, enrolled.actor_id) == ("users", str(user.id), user.id)
    assert secret not in str(enrolled.after)


def test_creating_and_editing_an_election_is_recorded(client, make_staff):
    seed_elections(date(2026, 11, 23))
    admin = make_staff(role=Role.ADMIN)
    db.session.commit()
    sign_in(client, admin)
    created = post_form(
        client,
        "/staff/elections/new",
        {
            "code": "kv2030",
            "name_cs": "Volby do zastupitelstev obcí 2030",
            "name_en": "Municipal elections 2030",
            "kind": "municipal",
            "status": "tentative",
            "first_voting_day": "2030-09-20",
        },
    )
    assert created.status_code == 302, created.text
    [creation] = events("election.created")
    assert creation.actor_id == admin.id and creation.before is None
    assert creation.after["status"] == "tentative" and creation.after["kind"] == "municipal"
    assert creation.after["rounds"][0]["processing_starts_at"] == "2030-09-21T12:00:00+00:00"

    edit = {
        "name_cs": "Volby do zastupitelstev obcí 2030",
        "name_en": "Municipal elections 2030",
        "kind": "municipal",
        "status": "announced",
        "application_deadline": "2030-09-06",
        "has_media_server": "y",
        "signature_required": "y",
        "rounds-0-voting_starts_at": "2030-09-20T14:00",
        "rounds-0-voting_ends_at": "2030-09-21T14:00",
        "rounds-0-processing_starts_at": "2030-09-21T14:00",
        "rounds-0-live_ends_at": "2030-09-22T08:00",
    }
    assert post_form(client, "/staff/elections/kv2030/edit", edit).status_code == 302
    [update] = events("election.updated")
    assert (update.subject_type, update.subject_id) == ("elections", creation.subject_id)
    assert (update.before["status"], update.after["status"]) == ("tentative", "announced")
    assert update.before["rounds"][0]["live_ends_at"] == "2030-09-22T12:00:00+00:00"
    assert update.after["rounds"][0]["live_ends_at"] == "2030-09-22T06:00:00+00:00"
    assert verify_chain().ok
