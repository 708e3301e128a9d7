"""Settings: safe defaults, overridden by ``PORTAL_*`` environment variables, then by the caller.

Nothing here runs at import time; ``create_app`` calls :func:`load_settings` once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from portal import keyfiles

#: Marks the development secret so production can recognise and refuse it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-do-not-use-in-production"  # noqa: S105
#: The audit chain's HMAC key in development and tests: public, so production refuses it.
DEVELOPMENT_AUDIT_KEY = "development-only-audit-key-known-to-everyone"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable (without the PORTAL_ prefix) -> (Flask setting, parser).
_ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "ENV": ("PORTAL_ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "REDIS_URL": ("PORTAL_REDIS_URL", str),
    "BASE_URL": ("PORTAL_BASE_URL", str),
    "FEED_URL": ("PORTAL_FEED_URL", str),
    "MAIL_BACKEND": ("PORTAL_MAIL_BACKEND", str),
    "MAIL_SENDER": ("PORTAL_MAIL_SENDER", str),
    "SMTP_HOST": ("PORTAL_SMTP_HOST", str),
    "SMTP_PORT": ("PORTAL_SMTP_PORT", int),
    "SMTP_USERNAME": ("PORTAL_SMTP_USERNAME", str),
    "SMTP_PASSWORD": ("PORTAL_SMTP_PASSWORD", str),
    "SMTP_STARTTLS": ("PORTAL_SMTP_STARTTLS", lambda v: v.lower() in {"1", "true", "yes"}),
    "SESSION_HOURS": ("PERMANENT_SESSION_LIFETIME", lambda v: timedelta(hours=float(v))),
    "LOGIN_RATE_LIMIT": ("PORTAL_LOGIN_RATE_LIMIT", str),
    "API_RATE_LIMIT": ("PORTAL_API_RATE_LIMIT", str),
    "TRUSTED_PROXIES": ("PORTAL_TRUSTED_PROXIES", int),
    "TRUST_ROOTS": ("PORTAL_TRUST_ROOTS", lambda v: tuple(p for p in v.split(":") if p)),
    "TRUST_LIST": ("PORTAL_TRUST_LISTS", lambda v: tuple(p for p in v.split(":") if p)),
    "TRUST_LIST_SIGNERS": ("PORTAL_TRUST_LIST_SIGNERS", lambda v: tuple(p for p in v.split(":") if p)),
    "TRUST_CRLS": ("PORTAL_TRUST_CRLS", lambda v: tuple(p for p in v.split(":") if p)),
    "ALLOWLIST_KEY": ("PORTAL_ALLOWLIST_KEY", str),
    "DATABOX_ROOTS": ("PORTAL_DATABOX_ROOTS", lambda v: tuple(p for p in v.split(":") if p)),
    "DATABOX_IMPORT": ("PORTAL_DATABOX_IMPORT", lambda v: _switch("PORTAL_DATABOX_IMPORT", v)),
    "AUDIT_KEY": ("PORTAL_AUDIT_KEY", str),
    "SIGNATURE_FETCHING": ("PORTAL_SIGNATURE_FETCHING", lambda v: v.lower() in {"1", "true", "yes"}),
    "SIGNATURE_SOFT_REVOCATION": ("PORTAL_SIGNATURE_SOFT_REVOCATION", lambda v: v.lower() in {"1", "true", "yes"}),
    "OFFICE_SIGNING_KEY": ("PORTAL_OFFICE_SIGNING_KEY", str),
    "OFFICE_SIGNING_CERT": ("PORTAL_OFFICE_SIGNING_CERT", str),
    "OUTBOX_MAX_ATTEMPTS": ("PORTAL_OUTBOX_MAX_ATTEMPTS", int),
    "OUTBOX_LEASE_SECONDS": ("PORTAL_OUTBOX_LEASE_SECONDS", int),
    "OUTBOX_DELIVER_AFTER_COMMIT": (
        "PORTAL_OUTBOX_DELIVER_AFTER_COMMIT",
        lambda v: v.lower() in {"1", "true", "yes"},
    ),
}


class ConfigurationError(RuntimeError):
    """The settings cannot be used; the message says which one and why."""


def _switch(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}: use on or off")


def default_settings() -> dict[str, Any]:
    """Defaults that are safe for development and refused where they are not safe for production."""
    return {
        "PORTAL_ENV": "development",
        "SECRET_KEY": DEVELOPMENT_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{PROJECT_ROOT / 'var' / 'portal.sqlite'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PORTAL_REDIS_URL": "",
        "PORTAL_BASE_URL": "http://127.0.0.1:5000",
        #: The feed proxy's address as outlets reach it: the overview links its /whoami self-test.
        "PORTAL_FEED_URL": "http://127.0.0.1:8080",
        "PORTAL_MAIL_BACKEND": "smtp",  # smtp | console
        "PORTAL_MAIL_SENDER": "Volební portál ČSÚ <volby-media@czso.cz>",
        "PORTAL_SMTP_HOST": "localhost",
        "PORTAL_SMTP_PORT": 25,
        "PORTAL_SMTP_USERNAME": "",
        "PORTAL_SMTP_PASSWORD": "",
        "PORTAL_SMTP_STARTTLS": False,
        "PORTAL_LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
        #: The JSON API, per token, per signed-in user, or per client address.
        "PORTAL_API_RATE_LIMIT": "600 per minute",
        "PORTAL_TRUSTED_PROXIES": 0,
        #: Absolute lifetime of a login, whatever the activity.
        "PORTAL_LOGIN_MAX_AGE": timedelta(hours=12),
        #: Idle lifetime: the signed cookie expires this long after the last request.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=2),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "portal_session",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "cs",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Prague",
        "PORTAL_LANGUAGES": ("cs", "en"),
        #: Trust for signed submissions: PEM bundles of roots, ETSI TS 119 612 trusted lists (XML) with
        #: the certificates that sign them, CRL files; paths, ":"-separated in the environment.
        "PORTAL_TRUST_ROOTS": (),
        "PORTAL_TRUST_LISTS": (),
        "PORTAL_TRUST_LIST_SIGNERS": (),
        "PORTAL_TRUST_CRLS": (),
        #: Ed25519 private key (PEM) that signs the allowlist snapshots; required in production
        #: (every portal host must sign with the same key), made on first use in development.
        "PORTAL_ALLOWLIST_KEY": "",
        #: Roots of the data-box system's signing certificate, for .zfo messages (PEM files).
        "PORTAL_DATABOX_ROOTS": (),
        #: Staff may upload a .zfo message; production needs PORTAL_DATABOX_ROOTS for it, or this off.
        "PORTAL_DATABOX_IMPORT": True,
        #: HMAC-SHA-256 key of the audit chain, kept outside the database; required in production.
        "PORTAL_AUDIT_KEY": DEVELOPMENT_AUDIT_KEY,
        #: Fetch OCSP/CRLs over the network while validating (off: configured CRL files only).
        "PORTAL_SIGNATURE_FETCHING": False,
        #: Accept a signature whose revocation status cannot be established (never a revoked one).
        "PORTAL_SIGNATURE_SOFT_REVOCATION": False,
        "PORTAL_SIGNED_PDF_MAX_BYTES": 10 * 1024 * 1024,
        #: The office's key and certificate (PEM; the issuing CAs may follow the certificate) that sign
        #: filming permits. Without them no permit can be issued; the rest of the portal works.
        "PORTAL_OFFICE_SIGNING_KEY": "",
        "PORTAL_OFFICE_SIGNING_CERT": "",
        #: argon2 parameters: "rfc9106-low-memory", or "cheapest" for the test suite only.
        "PORTAL_PASSWORD_PROFILE": "rfc9106-low-memory",
        #: Confirmation and password-reset links stay valid this long.
        "PORTAL_TOKEN_MAX_AGE": timedelta(hours=24),
        #: The outbox gives a mail up ('dead') after this many failed SMTP attempts.
        "PORTAL_OUTBOX_MAX_ATTEMPTS": 12,
        #: How long a sender's claim on a mail lasts; longer than any SMTP exchange (its timeout is 30 s).
        "PORTAL_OUTBOX_LEASE_SECONDS": 300,
        #: Deliver a request's outbox mails in-process right after its commit (tests); else the worker sends.
        "PORTAL_OUTBOX_DELIVER_AFTER_COMMIT": False,
    }


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read every ``PORTAL_*`` variable we know; a value that does not parse is a configuration error."""
    settings: dict[str, Any] = {}
    for name, (key, parse) in _ENVIRONMENT.items():
        raw = environ.get(f"PORTAL_{name}")
        if raw is None or raw == "":
            continue
        try:
            settings[key] = parse(raw)
        except ValueError as error:
            raise ConfigurationError(f"PORTAL_{name}={raw!r} is not valid: {error}") from error
    return settings


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Defaults, then the environment, then ``overrides``; checked for production use."""
    settings = default_settings()
    settings.update(settings_from_environment(os.environ if environ is None else environ))
    settings.update(overrides or {})
    if settings["PORTAL_ENV"] == "production":
        check_production(settings)
        settings["SESSION_COOKIE_SECURE"] = True
    if bool(settings["PORTAL_OFFICE_SIGNING_KEY"]) != bool(settings["PORTAL_OFFICE_SIGNING_CERT"]):
        raise ConfigurationError("PORTAL_OFFICE_SIGNING_KEY and PORTAL_OFFICE_SIGNING_CERT: set both or neither.")
    if int(settings["PORTAL_OUTBOX_MAX_ATTEMPTS"]) < 1:
        raise ConfigurationError("PORTAL_OUTBOX_MAX_ATTEMPTS must be at least 1.")
    if int(settings["PORTAL_OUTBOX_LEASE_SECONDS"]) < 60:
        raise ConfigurationError("PORTAL_OUTBOX_LEASE_SECONDS must be at least 60 (longer than an SMTP exchange).")
    if settings["PORTAL_ENV"] not in {"development", "production", "testing"}:
        raise ConfigurationError(f"PORTAL_ENV={settings['PORTAL_ENV']!r}: use development, testing or production.")
    return settings


def check_production(settings: Mapping[str, Any]) -> None:
    """Refuse to run in production on a development default."""
    secret = settings.get("SECRET_KEY") or ""
    if not secret or secret == DEVELOPMENT_SECRET_KEY:
        raise ConfigurationError(
            "PORTAL_SECRET_KEY is not set: production refuses the development default. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    if len(secret) < 32:
        raise ConfigurationError("PORTAL_SECRET_KEY is too short: use at least 32 characters.")
    if str(settings.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        raise ConfigurationError("PORTAL_DATABASE_URL must point at PostgreSQL in production.")
    if not settings.get("PORTAL_ALLOWLIST_KEY"):
        raise ConfigurationError(
            "PORTAL_ALLOWLIST_KEY is not set: production signs allowlist snapshots with one Ed25519 key "
            "shared by every portal host. Make one with: openssl genpkey -algorithm ed25519 -out allowlist-key.pem"
        )
    try:
        keyfiles.refuse_development_key(Path(settings["PORTAL_ALLOWLIST_KEY"]))
    except keyfiles.KeyFileError as error:
        raise ConfigurationError(f"PORTAL_ALLOWLIST_KEY: {error}") from error
    _check_audit_key(str(settings.get("PORTAL_AUDIT_KEY") or ""))
    redis_url = str(settings.get("PORTAL_REDIS_URL") or "")
    if not redis_url:
        raise ConfigurationError(
            "PORTAL_REDIS_URL is not set: production keeps the sign-in and API rate limits in Redis, "
            "so that every worker and every portal host counts together (redis://host:6379/0)."
        )
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(f"PORTAL_REDIS_URL={redis_url!r}: use redis://, rediss:// or unix://.")
    _check_databox_roots(settings)
    if settings.get("PORTAL_PASSWORD_PROFILE") != "rfc9106-low-memory":
        raise ConfigurationError("PORTAL_PASSWORD_PROFILE: production hashes passwords with rfc9106-low-memory.")
    if settings.get("PORTAL_MAIL_BACKEND") == "console":
        raise ConfigurationError("PORTAL_MAIL_BACKEND=console prints mail instead of sending it.")


def _check_audit_key(key: str) -> None:
    if not key or key == DEVELOPMENT_AUDIT_KEY:
        raise ConfigurationError(
            "PORTAL_AUDIT_KEY is not set: production keys the audit chain (HMAC-SHA-256) with a secret kept "
            "outside the database, so whoever can write the database cannot rewrite the log unnoticed. "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    if len(key) < 32:
        raise ConfigurationError("PORTAL_AUDIT_KEY is too short: use at least 32 characters.")


def _check_databox_roots(settings: Mapping[str, Any]) -> None:
    """Without roots any self-signed .zfo would pass as genuine: refuse, unless the import is off."""
    roots = settings.get("PORTAL_DATABOX_ROOTS") or ()
    if not roots:
        if settings.get("PORTAL_DATABOX_IMPORT", True):
            raise ConfigurationError(
                "PORTAL_DATABOX_ROOTS is not set: without the data-box system's roots any self-signed .zfo "
                "message would count as genuine. Point it at deploy/databox/postsignum-roots.pem (or the "
                "current PostSignum roots), or set PORTAL_DATABOX_IMPORT=off to record deliveries by hand only."
            )
        return
    for entry in roots:
        if isinstance(entry, bytes):
            continue
        try:
            data = Path(entry).read_bytes()
            certificates = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else []
            if not certificates:
                x509.load_der_x509_certificate(data)
        except OSError as error:
            raise ConfigurationError(f"PORTAL_DATABOX_ROOTS: cannot read {entry} ({error.strerror}).") from error
        except ValueError as error:
            raise ConfigurationError(f"PORTAL_DATABOX_ROOTS: {entry} holds no certificate.") from error
