"""Headers and cookies that every response carries."""

from portal.extensions import db
from tests.factories import PASSWORD, post_form


def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_http_only_and_same_site(client, make_applicant):
    user = make_applicant()
    db.session.commit()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    cookie = next(
        value for name, value in response.headers.items() if name == "Set-Cookie" and "portal_session" in value
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_session_expires_after_the_absolute_lifetime(make_app, make_applicant):
    from datetime import timedelta

    app = make_app(PORTAL_LOGIN_MAX_AGE=timedelta(seconds=-1))
    with app.app_context():
        user = make_applicant()
        db.session.commit()
        client = app.test_client()
        post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert client.get("/account").status_code == 302


def test_unknown_page_is_a_friendly_404_without_traceback(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_static_file_never_rewrites_the_session_cookie(client):
    """A stylesheet or icon still loading from the previous page would send back the old session and
    overwrite the newer cookie (a flash message lost after a redirect)."""
    with client.session_transaction() as session:
        session["language"] = "cs"
    static = client.get("/static/favicon.svg")
    assert static.status_code == 200
    assert "Set-Cookie" not in static.headers
    page = client.get("/")
    assert page.status_code == 200 and "Set-Cookie" in page.headers  # pages still refresh the idle lifetime
