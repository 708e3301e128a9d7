"""Sessions end on the server: a copied session cookie stops working after sign-out, a password reset
and a role change; a reset revokes the API tokens and its mail says so; sign-in waits longer after
each wrong password for an address, up to a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from portal.accounts import service, throttle
from portal.accounts.errors import InvalidCredentials, SignInDelayed
from portal.accounts.models import Role
from portal.api import service as api_tokens
from portal.cli import main
from portal.db import utcnow
from portal.extensions import db
from tests.factories import PASSWORD, post_form, sign_in
from tests.mailbox import body_of, first_link

COOKIE = "portal_session"


def copy_of(app, client: FlaskClient) -> FlaskClient:  # type: ignore[no-untyped-def]
    """Another browser holding a copy of ``client``'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, make_applicant):
    user = make_applicant()
    db.session.commit()
    sign_in(client, user)
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    thief = copy_of(app, client)
    assert signed_in(thief)  # the copy works while the session lasts ...
    assert post_form(client, "/logout", {}).status_code == 302
    assert not signed_in(thief)  # ... and not after sign-out
    assert not signed_in(client)
    assert not signed_in(elsewhere)  # sign-out ends every session of the person
    sign_in(client, user)  # signing in again works
    assert signed_in(client) and not signed_in(thief)


def test_a_cookie_copied_before_a_password_reset_is_refused_after_it(app, client, make_applicant, mailbox):
    user = make_applicant()
    db.session.commit()
    sign_in(client, user)
    thief = copy_of(app, client)
    post_form(app.test_client(), "/reset", {"email": user.email})
    link = urlsplit(first_link(mailbox.wait_for(user.email))).path
    resetting = app.test_client()
    assert post_form(resetting, link, {"password": "a new long password", "password_again": "a new long password"})
    assert not signed_in(thief) and not signed_in(client)


@pytest.mark.parametrize("how", ["service", "orm", "cli"])
def test_a_cookie_copied_before_a_role_change_is_refused_after_it(app, client, make_staff, how):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    thief = copy_of(app, client)
    assert client.get("/staff/audit").status_code == 200 and thief.get("/staff/audit").status_code == 200
    if how == "service":
        service.change_role(staff, Role.OPS, actor=None, at=utcnow(), actor_label="test")
        db.session.commit()
    elif how == "orm":  # any code path that sets the role, not only the service
        staff.role = Role.ADMIN
        db.session.commit()
    else:
        result = app.test_cli_runner().invoke(main, ["users", "set-role", staff.email, "--role", "ops"])
        assert result.exit_code == 0 and "signed out everywhere" in result.stdout
    assert thief.get("/staff/audit").status_code == 302
    assert client.get("/staff/audit").status_code == 302


def test_saving_the_same_role_keeps_the_sessions(app, client, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    staff.role = Role.REVIEWER
    staff.language = "en"
    db.session.commit()
    assert client.get("/staff/audit").status_code == 200


def test_a_reset_revokes_every_api_token_and_the_mail_lists_them(app, client, make_applicant, mailbox):
    user = make_applicant(language="en")
    kept = [
        api_tokens.mint(user, name, lifetime_days=0, second_factor_passed=False, at=utcnow())
        for name in ("importer", "night desk")
    ]
    db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {kept[0].secret}"}
    assert api.get("/api/v1/applications", headers=headers).status_code == 200

    post_form(client, "/reset", {"email": user.email})
    request_mail = mailbox.wait_for(user.email)
    assert "revokes every API token of your account" in body_of(request_mail)
    link = urlsplit(first_link(request_mail)).path
    mailbox.clear()
    changed = post_form(client, link, {"password": "a new long password", "password_again": "a new long password"})
    assert changed.status_code == 302

    assert api.get("/api/v1/applications", headers=headers).status_code == 401
    db.session.expire_all()
    assert all(token.token.revoked_at is not None for token in kept)
    notice = mailbox.wait_for(user.email)
    assert notice["Subject"] == "Your password has been changed"
    body = body_of(notice)
    assert "These API tokens of your account have been revoked" in body
    assert "- importer" in body and "- night desk" in body


def test_a_reset_without_tokens_says_none_were_revoked(app, client, make_applicant, mailbox):
    user = make_applicant()
    db.session.commit()
    post_form(client, "/reset", {"email": user.email})
    link = urlsplit(first_link(mailbox.wait_for(user.email))).path
    mailbox.clear()
    post_form(client, link, {"password": "a new long password", "password_again": "a new long password"})
    notice = mailbox.wait_for(user.email)
    assert notice["Subject"] == "Vaše heslo bylo změněno"
    assert "Váš účet neměl žádné platné tokeny pro API" in body_of(notice)


# --- per-account delays ---------------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def fail(email: str, at: datetime) -> None:
    with pytest.raises(InvalidCredentials):
        service.authenticate(email, "a wrong password", at=at)


def test_wrong_passwords_cost_growing_delays_up_to_a_minute(app, make_applicant):
    user = make_applicant()
    at = T0
    for _ in range(throttle.FREE_FAILURES):
        fail(user.email, at)
    waits = []
    for _ in range(10):
        with pytest.raises(SignInDelayed) as delayed:
            service.authenticate(user.email, PASSWORD, at=at)  # even the right password waits
        waits.append(delayed.value.seconds)
        at += timedelta(seconds=delayed.value.seconds)
        fail(user.email, at)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    # A minute after the last wrong guess the owner gets in, and the count starts again.
    at += throttle.MAX_DELAY
    assert service.authenticate(user.email, PASSWORD, at=at) == user
    assert throttle.seconds_to_wait(user.email, at=at) == 0


def test_attempts_during_a_delay_do_not_count(app, make_applicant):
    user = make_applicant()
    for _ in range(throttle.FREE_FAILURES):
        fail(user.email, T0)
    for _ in range(20):
        with pytest.raises(SignInDelayed):
            service.authenticate(user.email, "another guess", at=T0)
    assert throttle.seconds_to_wait(user.email, at=T0) == 1


def test_an_unknown_address_is_delayed_alike(app):
    for _ in range(throttle.FREE_FAILURES):
        fail("nobody@nowhere.example", T0)
    with pytest.raises(SignInDelayed):
        service.authenticate("Nobody@Nowhere.example", "a guess", at=T0)


def test_failures_are_forgotten_after_a_day(app, make_applicant):
    user = make_applicant()
    for _ in range(throttle.FREE_FAILURES):
        fail(user.email, T0)
    assert throttle.seconds_to_wait(user.email, at=T0) == 1
    later = T0 + throttle.FORGET_AFTER + timedelta(seconds=1)
    assert throttle.seconds_to_wait(user.email, at=later) == 0
    fail(user.email, later)
    assert throttle.seconds_to_wait(user.email, at=later) == 0  # one failure of a fresh count


def test_the_sign_in_page_refuses_during_a_delay_from_any_address(app, make_applicant):
    user = make_applicant()
    db.session.commit()
    for number in range(throttle.FREE_FAILURES):
        guesser = app.test_client()
        guesser.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        wrong = post_form(guesser, "/login", {"email": user.email, "password": "a wrong password"})
        assert wrong.status_code == 200 and "E-mail nebo heslo" in wrong.get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(throttle.LoginFailures, throttle._key(user.email))
    assert row is not None and row.failures == throttle.FREE_FAILURES
    row.failures = 20  # as after many guesses: a minute's wait
    row.last_failed_at = utcnow()
    db.session.commit()
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    refused = post_form(owner, "/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Příliš mnoho chybných hesel pro tuto e-mailovou adresu. Zkuste to znovu za" in refused.get_data(
        as_text=True
    )
    assert not signed_in(owner)
    row.last_failed_at = utcnow() - throttle.MAX_DELAY
    db.session.commit()
    assert post_form(owner, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(throttle.LoginFailures, throttle._key(user.email)) is None


# --- a password change while signed in ------------------------------------------------------------


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, client, make_applicant, mailbox):
    user = make_applicant()
    db.session.commit()
    sign_in(client, user)
    thief = copy_of(app, client)
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    wrong = post_form(
        client,
        "/account/password",
        {
            "current_password": "not my password",
            "password": "a new long password",
            "password_again": "a new long password",
        },
    )
    assert "Toto není Vaše současné heslo." in wrong.get_data(as_text=True)
    assert signed_in(thief) and signed_in(elsewhere)  # a refused change changes nothing
    changed = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "a new long password", "password_again": "a new long password"},
    )
    assert changed.status_code == 302
    assert signed_in(client)
    assert not signed_in(thief) and not signed_in(elsewhere)
    assert mailbox.wait_for(user.email)["Subject"] == "Vaše heslo bylo změněno"
    assert post_form(elsewhere, "/login", {"email": user.email, "password": "a new long password"}).status_code == 302


def test_a_staff_password_change_keeps_the_second_factor_of_this_session(app, client, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    changed = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "a new long password", "password_again": "a new long password"},
    )
    assert changed.status_code == 302
    assert client.get("/staff/audit").status_code == 200


def test_wrong_second_factor_codes_cost_growing_delays_per_account(app, make_staff):
    import pyotp

    from portal.accounts.errors import InvalidSecondFactor

    staff = make_staff(role=Role.REVIEWER)
    totp = pyotp.TOTP(staff.totp_secret)
    right = totp.at(T0)
    valid = {totp.at(T0 + timedelta(seconds=s)) for s in (-30, 0, 30)}
    wrong = next(code for code in (f"{n:06d}" for n in range(10)) if code not in valid)
    for _ in range(throttle.FREE_FAILURES):
        with pytest.raises(InvalidSecondFactor):
            service.verify_second_factor(staff, wrong, at=T0)
    with pytest.raises(SignInDelayed) as delayed:
        service.verify_second_factor(staff, right, at=T0)
    assert delayed.value.seconds == 1
    service.verify_second_factor(staff, right, at=T0 + timedelta(seconds=1))
    assert throttle.seconds_to_wait(f"second-factor:{staff.id}", at=T0 + timedelta(seconds=1)) == 0
