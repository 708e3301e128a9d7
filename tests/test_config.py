"""Production refuses development defaults and half-configured security, and says which setting is wrong."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal import create_app, keyfiles
from portal.config import DEVELOPMENT_AUDIT_KEY, DEVELOPMENT_SECRET_KEY, ConfigurationError, load_settings
from tests.conftest import TEST_ALLOWLIST_KEY

ROOT = Path(__file__).resolve().parent.parent
POSTSIGNUM_ROOTS = ROOT / "deploy" / "databox" / "postsignum-roots.pem"


def write_key(path: Path) -> Path:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("production")
    return {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "s" * 48,
        "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db/portal",
        "PORTAL_ALLOWLIST_KEY": str(write_key(folder / "allowlist-key.pem")),
        "PORTAL_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_DATABOX_ROOTS": str(POSTSIGNUM_ROOTS),
        "PORTAL_AUDIT_KEY": "a" * 48,
    }


def test_a_complete_production_configuration_is_accepted(production):
    settings = load_settings(environ=production)
    assert settings["PORTAL_DATABOX_IMPORT"] is True and settings["PORTAL_AUDIT_KEY"] == "a" * 48


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"PORTAL_SECRET_KEY": ""}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY": "too-short"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_DATABASE_URL": "sqlite:///portal.sqlite"}, "PORTAL_DATABASE_URL"),
        ({"PORTAL_MAIL_BACKEND": "console"}, "PORTAL_MAIL_BACKEND"),
        ({"PORTAL_ALLOWLIST_KEY": ""}, "PORTAL_ALLOWLIST_KEY"),
        ({"PORTAL_ALLOWLIST_KEY": "/nonexistent/allowlist-key.pem"}, "PORTAL_ALLOWLIST_KEY: .*cannot read"),
        ({"PORTAL_ALLOWLIST_KEY": str(POSTSIGNUM_ROOTS)}, "PORTAL_ALLOWLIST_KEY: .*not an unencrypted PEM"),
        ({"PORTAL_SMTP_PORT": "twenty-five"}, "PORTAL_SMTP_PORT"),
        ({"PORTAL_REDIS_URL": ""}, "PORTAL_REDIS_URL is not set"),
        ({"PORTAL_REDIS_URL": "memory://"}, "PORTAL_REDIS_URL"),
        ({"PORTAL_DATABOX_ROOTS": ""}, "PORTAL_DATABOX_ROOTS is not set"),
        ({"PORTAL_DATABOX_ROOTS": "", "PORTAL_DATABOX_IMPORT": "on"}, "PORTAL_DATABOX_ROOTS is not set"),
        ({"PORTAL_DATABOX_ROOTS": "/nonexistent/roots.pem"}, "PORTAL_DATABOX_ROOTS: cannot read"),
        ({"PORTAL_DATABOX_ROOTS": str(TEST_ALLOWLIST_KEY)}, "PORTAL_DATABOX_ROOTS: .* no certificate"),
        ({"PORTAL_DATABOX_IMPORT": "maybe"}, "PORTAL_DATABOX_IMPORT"),
        ({"PORTAL_AUDIT_KEY": ""}, "PORTAL_AUDIT_KEY is not set"),
        ({"PORTAL_AUDIT_KEY": DEVELOPMENT_AUDIT_KEY}, "PORTAL_AUDIT_KEY is not set"),
        ({"PORTAL_AUDIT_KEY": "short"}, "PORTAL_AUDIT_KEY is too short"),
    ],
)
def test_production_refuses_unsafe_settings(production, change, named):
    environ = {**production, **change}
    with pytest.raises(ConfigurationError, match=named):
        load_settings(environ=environ)


def test_production_may_go_without_databox_roots_when_the_zfo_import_is_off(production):
    settings = load_settings(environ={**production, "PORTAL_DATABOX_ROOTS": "", "PORTAL_DATABOX_IMPORT": "off"})
    assert settings["PORTAL_DATABOX_IMPORT"] is False and settings["PORTAL_DATABOX_ROOTS"] == ()


def test_the_refusal_list_keeps_the_key_once_tracked_in_the_repository():
    """The key removed from instance/ is public for ever: its fingerprint stays on the refusal list."""
    removed = "1abf3c30fcb8412388b612af8313aa49911682a121455ca71fea4db841c53372"
    assert removed in keyfiles.KNOWN_DEVELOPMENT_KEYS
    assert "fcb0dcbce105f1cd983815618ba0c74e142a38d316d75a38306ab4fbac711b39" in keyfiles.KNOWN_DEVELOPMENT_KEYS


def test_production_refuses_a_key_on_the_refusal_list(production, monkeypatch):
    listed = keyfiles.fingerprint(keyfiles.load(TEST_ALLOWLIST_KEY))
    monkeypatch.setitem(keyfiles.KNOWN_DEVELOPMENT_KEYS, listed, "the suite's own key")
    with pytest.raises(ConfigurationError, match=r"PORTAL_ALLOWLIST_KEY: .*development or test key"):
        load_settings(environ={**production, "PORTAL_ALLOWLIST_KEY": str(TEST_ALLOWLIST_KEY)})


def test_production_refuses_this_checkouts_development_key(production, tmp_path, monkeypatch):
    development = write_key(tmp_path / "allowlist-key.pem")
    monkeypatch.setattr(keyfiles, "DEVELOPMENT_KEY", development)
    copy = tmp_path / "copied.pem"
    copy.write_bytes(development.read_bytes())
    with pytest.raises(ConfigurationError, match=r"PORTAL_ALLOWLIST_KEY: .*development key"):
        load_settings(environ={**production, "PORTAL_ALLOWLIST_KEY": str(copy)})


def test_development_makes_its_key_once_and_keeps_it(tmp_path):
    path = tmp_path / "var" / "allowlist-key.pem"
    first = keyfiles.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyfiles.fingerprint(keyfiles.load_or_create(path)) == keyfiles.fingerprint(first)
    assert [p.name for p in path.parent.iterdir()] == ["allowlist-key.pem"]


def test_production_without_secret_key_refuses_to_start(production, monkeypatch):
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAL_SECRET_KEY")
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("missing", ["PORTAL_REDIS_URL", "PORTAL_DATABOX_ROOTS", "PORTAL_AUDIT_KEY"])
def test_production_without_a_security_setting_refuses_to_start(production, monkeypatch, missing):
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=missing):
        create_app()


def test_production_settings_secure_the_cookie(production):
    settings = load_settings(environ=production)
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


def test_no_tracked_file_holds_a_private_key():
    """Keys are made where they are used (var/, /etc/portal, the test run's own folder), never committed.

    A test may hold a malformed PEM block in its source, to see it refused; no file is a key."""
    import subprocess

    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    )
    holding = [
        name
        for name in tracked
        if name
        and not name.endswith(".py")
        and (ROOT / name).is_file()
        and b"PRIVATE KEY-----" in (ROOT / name).read_bytes()
    ]
    assert holding == []
