"""The account service keeps its own audit rows and rules; the pages keep a refused sign-in's count."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.accounts import service, throttle
from portal.accounts.errors import (
    AccountError,
    EmailNotConfirmed,
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    InvalidToken,
    OrganisationRegistered,
    SignInDelayed,
)
from portal.accounts.messages import codes_delayed_message, error_message
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.problems import describe
from tests.factories import post_form, sign_in

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
SIGN_UP = {
    "organisation_name": " Rádio Vysočina s.r.o. ",
    "ico": "00027383",
    "address": "Nová 2, Jihlava",
    "website": "https://radio.example",
    "email": "Redakce@Radio.example",
    "password": "a long enough password",
    "language": "cs",
}


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_signing_up_records_the_organisation_and_its_applicant(app):
    user = service.sign_up(**SIGN_UP, at=AT, actor_label="drill set-up")
    [registered] = events("organisation.registered")
    assert (registered.subject_id, registered.actor_id) == (str(user.organisation_id), user.id)
    assert registered.actor_label == "drill set-up" and registered.before is None
    assert registered.after == {
        "name": "Rádio Vysočina s.r.o.",
        "ico": "00027383",
        "address": "Nová 2, Jihlava",
        "website": "https://radio.example",
        "applicant": "redakce@radio.example",
    }
    assert user.email_confirmed_at is None


def test_an_organisation_change_is_recorded_once_and_a_refused_one_not_at_all(app, make_organisation, make_applicant):
    organisation = make_organisation(name="Rádio Jih", ico="47114983")
    make_organisation(ico="00027383")
    actor = make_applicant(organisation=organisation)
    details = {"name": "Rádio Jih", "ico": "47114983", "address": organisation.address, "website": ""}
    service.update_organisation(organisation, **details, actor=actor, at=AT)
    assert events("organisation.updated") == []
    with pytest.raises(OrganisationRegistered):
        service.update_organisation(organisation, **{**details, "ico": "00027383"}, actor=actor, at=AT)
    assert events("organisation.updated") == []
    service.update_organisation(organisation, **{**details, "name": " Rádio Sever "}, actor=actor, at=AT)
    [updated] = events("organisation.updated")
    assert (updated.before["name"], updated.after["name"]) == ("Rádio Jih", "Rádio Sever")
    assert updated.actor_id == actor.id


def test_a_confirmation_link_is_recorded_once_and_refused_for_another_address(app, make_applicant):
    user = make_applicant(confirmed=False)
    with pytest.raises(InvalidToken):
        service.confirm_address(user.id, "someone.else@outlet.example", at=AT)
    with pytest.raises(InvalidToken):
        service.confirm_address(user.id + 1000, user.email, at=AT)
    assert user.email_confirmed_at is None
    assert service.confirm_address(user.id, user.email, at=AT) is user
    service.confirm_address(user.id, user.email, at=AT)
    [confirmed] = events("user.email_confirmed")
    assert (confirmed.subject_id, confirmed.actor_id) == (str(user.id), user.id)


def test_enrolling_a_second_factor_is_recorded_without_the_secret(app, make_staff):
    staff = make_staff(role=Role.OPS, second_factor=False)
    secret = service.new_totp_secret()
    with pytest.raises(InvalidSecondFactor):
        service.enrol_second_factor(staff, secret, "12345", at=AT)
    assert events("user.second_factor_enrolled") == []
    service.enrol_second_factor(staff, secret, pyotp.TOTP(secret).at(AT), at=AT)
    [enrolled] = events("user.second_factor_enrolled")
    assert enrolled.actor_id == staff.id and secret not in str(enrolled.after)


def test_a_wrong_code_on_the_page_is_counted(app, client, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff, second_factor=False)
    wrong = post_form(client, "/login/second-factor", {"code": "000000"})
    assert wrong.status_code == 200
    db.session.expire_all()
    row = db.session.get(throttle.LoginFailures, throttle._key(f"second-factor:{staff.id}"))
    assert row is not None and row.failures == 1


def test_a_wrong_current_password_on_the_page_is_counted(app, client, make_applicant):
    user = make_applicant()
    db.session.commit()
    sign_in(client, user)
    data = {
        "current_password": "not the password",
        "password": "a new long password",
        "password_again": "a new long password",
    }
    wrong = post_form(client, "/account/password", data)
    assert wrong.status_code == 200
    db.session.expire_all()
    row = db.session.get(throttle.LoginFailures, throttle._key(user.email))
    assert row is not None and row.failures == 1


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OrganisationRegistered("00027383"), "An organisation with this IČO is already registered."),
        (EmailTaken("a@b.example"), "An account with this e-mail already exists."),
        (InvalidCredentials(), "The e-mail or the password is wrong."),
        (EmailNotConfirmed(), "Confirm your e-mail address first"),
        (InvalidToken(), "The link has expired"),
        (InvalidSecondFactor(), "This code is not valid."),
        (SignInDelayed(7), "Try again in 7 s."),
        (AccountError(), "This change is not possible."),
    ],
)
def test_every_refusal_is_put_into_words(app, error, words):
    with app.test_request_context(), force_locale("en"):
        assert words in describe(error) and describe(error) == error_message(error)
        assert "wrong codes" in codes_delayed_message(SignInDelayed(3))


def test_the_pages_record_the_client_address_with_the_service_s_events(app, client):
    """The audit log takes the request's client address by itself: a sign-up and its confirmation made
    through the pages carry it although the service names none; the same service outside a request, none."""
    from portal.accounts import tokens

    assert client.get("/signup").status_code == 200
    form = {**SIGN_UP, "password_again": SIGN_UP["password"]}
    assert post_form(client, "/signup", form, environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 200
    [registered] = events("organisation.registered")
    assert registered.client_address == "192.0.2.44"

    user = service.find_user_by_email(SIGN_UP["email"])
    assert user is not None
    client.get(f"/confirm/{tokens.confirmation_token(user)}", environ_base={"REMOTE_ADDR": "192.0.2.45"})
    [confirmed] = events("user.email_confirmed")
    assert confirmed.client_address == "192.0.2.45"

    service.sign_up(**{**SIGN_UP, "ico": "25596641", "email": "other@radio.example"}, at=AT)
    assert events("organisation.registered")[-1].client_address is None
