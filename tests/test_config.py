"""Production refuses development defaults and says which setting is wrong."""

import pytest

from portal import create_app
from portal.config import DEVELOPMENT_SECRET_KEY, ConfigurationError, load_settings

PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": "s" * 48,
    "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db/portal",
    "PORTAL_ALLOWLIST_KEY": "/etc/portal/allowlist-key.pem",
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PORTAL_SECRET_KEY": ""}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": "too-short"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_DATABASE_URL": "sqlite:///portal.sqlite"}, "PORTAL_DATABASE_URL"),
        ({"PORTAL_MAIL_BACKEND": "console"}, "PORTAL_MAIL_BACKEND"),
        ({"PORTAL_ALLOWLIST_KEY": ""}, "PORTAL_ALLOWLIST_KEY"),
        ({"PORTAL_SMTP_PORT": "twenty-five"}, "PORTAL_SMTP_PORT"),
    ],
)
def test_production_refuses_unsafe_settings(change, named):
    environ = {**PRODUCTION, **change}
    with pytest.raises(ConfigurationError, match=named):
        load_settings(environ=environ)


def test_production_without_secret_key_refuses_to_start(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAL_SECRET_KEY")
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()


def test_production_settings_secure_the_cookie():
    settings = load_settings(environ=PRODUCTION)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigurationError, match="PORTAL_ENV"):
        load_settings(environ={"PORTAL_ENV": "prod"})


def test_trust_settings_are_colon_separated_paths():
    settings = load_settings(
        environ={
            "PORTAL_TRUST_ROOTS": "/etc/portal/a.pem:/etc/portal/b.pem",
            "PORTAL_TRUST_LIST": "/etc/portal/TSL-CZ.xml",
            "PORTAL_SIGNATURE_SOFT_REVOCATION": "yes",
        }
    )
    assert settings["PORTAL_TRUST_ROOTS"] == ("/etc/portal/a.pem", "/etc/portal/b.pem")
    assert settings["PORTAL_TRUST_LISTS"] == ("/etc/portal/TSL-CZ.xml",)
    assert settings["PORTAL_SIGNATURE_SOFT_REVOCATION"] is True
    assert settings["PORTAL_SIGNATURE_FETCHING"] is False
