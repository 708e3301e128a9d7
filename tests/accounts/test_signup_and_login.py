"""Outlet sign-up with e-mail confirmation over real SMTP, sign-in, password reset, rate limit."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Organisation, Role, User
from portal.extensions import db
from tests.factories import PASSWORD, csrf_token, post_form
from tests.mailbox import body_of, first_link

SIGNUP = {
    "organisation_name": "Deník Vysočina a.s.",
    "ico": "47114983",
    "address": "Masarykovo nám. 1, Jihlava",
    "website": "https://denik.example",
    "email": "Redakce@Denik.example",
    "password": "a long enough password",
    "password_again": "a long enough password",
    "language": "cs",
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_signup_sends_a_confirmation_mail_and_confirming_allows_sign_in(client, mailbox):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.email == "redakce@denik.example"))
    assert user is not None and user.role is Role.APPLICANT and user.email_confirmed_at is None
    assert user.organisation.ico == "47114983" and user.organisation.name == "Deník Vysočina a.s."
    assert user.password_hash.startswith("$argon2id$")

    mail = mailbox.wait_for("redakce@denik.example")
    assert "Deník Vysočina a.s." in body_of(mail)
    link = first_link(mail)
    assert link.startswith("http://portal.test/confirm/")

    refused = post_form(client, "/login", {"email": "redakce@denik.example", "password": SIGNUP["password"]})
    assert refused.status_code == 200 and user.email_confirmed_at is None

    confirmed = client.get(path_of(link))
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/login")
    db.session.refresh(user)
    assert user.email_confirmed_at is not None

    signed_in = post_form(client, "/login", {"email": "REDAKCE@denik.example", "password": SIGNUP["password"]})
    assert signed_in.status_code == 302
    assert "redakce@denik.example" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field_id"),
    [
        ({"ico": "25123890"}, "ico"),  # wrong check digit
        ({"ico": "1234567"}, "ico"),  # 7 digits
        ({"ico": "4711498x"}, "ico"),
        ({"email": "not-an-address"}, "email"),
        ({"password": "short", "password_again": "short"}, "password"),
        ({"password_again": "something else entirely"}, "password_again"),
        ({"organisation_name": ""}, "organisation_name"),
        ({"organisation_name": "x" * 5000}, "organisation_name"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_signup_input_is_explained_and_changes_nothing(client, mailbox, change, field_id):
    response = post_form(client, "/signup", {**SIGNUP, **change})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert f'href="#{field_id}"' in html
    assert f'id="{field_id}-error-1"' in html
    assert count(User) == 0 and count(Organisation) == 0
    assert mailbox.messages == []


def _answer(html: str, email: str) -> str:
    """The page with the address and the per-session CSRF tokens taken out."""
    return re.sub(r'value="[^"]*"', 'value=""', html).replace(email, "ADDRESS")


def test_signup_with_a_registered_email_answers_as_for_a_new_one_and_mails_the_owner(
    client, app, make_applicant, mailbox
):
    make_applicant(email="taken@outlet.example", language="en")
    db.session.commit()
    users_before, organisations_before = count(User), count(Organisation)
    taken = post_form(client, "/signup", {**SIGNUP, "email": "Taken@Outlet.example"})
    fresh = post_form(app.test_client(), "/signup", {**SIGNUP, "ico": "00027383", "email": "new@outlet.example"})
    assert taken.status_code == fresh.status_code == 200
    assert _answer(taken.get_data(as_text=True), "taken@outlet.example") == _answer(
        fresh.get_data(as_text=True), "new@outlet.example"
    )
    assert count(User) == users_before + 1 and count(Organisation) == organisations_before + 1  # only the new one
    assert db.session.scalar(select(Organisation).where(Organisation.ico == SIGNUP["ico"])) is None
    notice = mailbox.wait_for("taken@outlet.example")
    assert notice["Subject"] == "Registration with your address"
    assert "An account with this address already exists, so nothing was registered." in body_of(notice)
    assert "http://portal.test/login" in body_of(notice) and "http://portal.test/reset" in body_of(notice)
    assert mailbox.wait_for("new@outlet.example")["Subject"] == "Potvrzení e-mailové adresy"


def test_signup_refuses_a_registered_ico_whatever_the_email(client, make_applicant, make_organisation, mailbox):
    make_applicant(email="taken@outlet.example")
    make_organisation(ico="00027383")
    db.session.commit()
    users_before = count(User)
    for email in ("taken@outlet.example", "new@outlet.example"):
        html = post_form(client, "/signup", {**SIGNUP, "ico": "000 27 383", "email": email}).get_data(as_text=True)
        assert 'id="ico-error-1"' in html
    assert count(User) == users_before
    assert mailbox.messages == []


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, mailbox):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 400
    assert count(User) == 0


def test_tampered_confirmation_link_is_refused(client, make_applicant):
    make_applicant(confirmed=False)
    db.session.commit()
    response = client.get("/confirm/eyJ1c2VyIjoxfQ.forged.signature")
    assert response.status_code == 400


def test_wrong_password_does_not_say_which_part_was_wrong(client, make_applicant):
    user = make_applicant()
    db.session.commit()
    wrong_password = post_form(client, "/login", {"email": user.email, "password": "not the password"})
    unknown_user = post_form(client, "/login", {"email": "nobody@nowhere.example", "password": "not the password"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert client.get("/account").status_code == 302  # still signed out


def test_login_attempts_are_rate_limited(make_app, make_applicant):
    app = make_app(PORTAL_LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        user = make_applicant()
        db.session.commit()
        client = app.test_client()
        token = csrf_token(client)
        statuses = [
            client.post(
                "/login", data={"csrf_token": token, "email": user.email, "password": "wrong password"}
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        # Even the right password is refused while the limit lasts.
        right = client.post("/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
        assert right.status_code == 429
        assert "Retry-After" in right.headers


def test_password_reset_link_works_once_and_signs_out_other_sessions(app, client, make_applicant, mailbox):
    user = make_applicant()
    db.session.commit()
    other_device = app.test_client()
    post_form(other_device, "/login", {"email": user.email, "password": PASSWORD})
    assert other_device.get("/account").status_code == 200

    response = post_form(client, "/reset", {"email": user.email})
    assert response.status_code == 200
    link = path_of(first_link(mailbox.wait_for(user.email)))
    new_password = "a brand new password"
    changed = post_form(client, link, {"password": new_password, "password_again": new_password})
    assert changed.status_code == 302

    assert client.get(link).status_code == 400  # used once
    assert other_device.get("/account").status_code == 302  # the old session is gone
    assert post_form(client, "/login", {"email": user.email, "password": new_password}).status_code == 302


def test_reset_request_for_unknown_address_looks_the_same_and_sends_nothing(client, mailbox):
    response = post_form(client, "/reset", {"email": "nobody@nowhere.example"})
    assert response.status_code == 200
    assert "nobody@nowhere.example" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_language_switch_remembers_english_for_the_session_and_the_account(client, make_applicant):
    user = make_applicant()
    db.session.commit()
    post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    response = post_form(client, "/language", {"language": "en", "next": "/elections"})
    assert response.status_code == 302 and response.headers["Location"] == "/elections"
    assert 'lang="en"' in client.get("/elections").get_data(as_text=True)
    db.session.refresh(user)
    assert user.language == "en"


def test_language_switch_never_redirects_off_site(client):
    response = post_form(client, "/language", {"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_losing_a_sign_up_race_gives_the_normal_message(app, make_applicant, monkeypatch):
    """The rival's row appears between the pre-check and the insert: the unique constraint fires,
    the caller gets the account error rather than a 500, and the session stays usable."""
    from portal.accounts import service
    from portal.accounts.errors import EmailTaken

    make_applicant(email="race@outlet.example")
    db.session.commit()
    real_check, checks = service._ensure_email_free, []

    def check_misses_the_rival_once(email):
        checks.append(email)
        if len(checks) > 1:
            real_check(email)

    monkeypatch.setattr(service, "_ensure_email_free", check_misses_the_rival_once)
    with pytest.raises(EmailTaken):
        service.register_outlet(
            organisation_name="X",
            ico="00025593",
            address="A",
            website="",
            email="race@outlet.example",
            password="long enough pw",
            language="cs",
        )
    assert len(checks) == 2  # the insert was attempted and refused by the database
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
