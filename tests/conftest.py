"""Fixtures: a clean database per test (SQLite in memory, or PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), a real SMTP server, factories and an auth helper."""

from __future__ import annotations

import contextvars
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.extensions import db
from tests.mailbox import Mailbox, start_smtp_server

#: Empty: SQLite in memory. Set by .ci/run for the PostgreSQL pass.
TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _allowlist_key_for_this_run() -> Path:
    """An Ed25519 key made for this test run, outside the checkout: no private key is kept in the repository."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(tempfile.mkdtemp(prefix="portal-tests-")) / "allowlist-key.pem"
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


TEST_ALLOWLIST_KEY = _allowlist_key_for_this_run()

pytest_plugins = ["tests.factories", "tests.signatures.pki"]


def pytest_configure(config: pytest.Config) -> None:
    # The developer's own PORTAL_* settings must not leak into the suite.
    for name in [n for n in os.environ if n.startswith("PORTAL_") and n != "PORTAL_TEST_DATABASE_URL"]:
        del os.environ[name]


def uses_postgresql() -> bool:
    return TEST_DATABASE_URL.startswith("postgresql")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Under CI=true a skip fails the test; postgres_only tests run in the PostgreSQL pass instead."""
    report: pytest.TestReport = yield
    expected = item.get_closest_marker("postgres_only") is not None and not uses_postgresql()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and not expected:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: skips are failures here. Skipped because: {reason}"
    return report


def portal_test_config(database_url: str, smtp_port: int, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "PORTAL_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "a-test-secret-that-is-long-enough-to-pass",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_PASSWORD_PROFILE": "cheapest",
        "PORTAL_MAIL_BACKEND": "smtp",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": smtp_port,
        "PORTAL_BASE_URL": "http://portal.test",
        # A key made for this run, so tests write nothing in var/.
        "PORTAL_ALLOWLIST_KEY": str(TEST_ALLOWLIST_KEY),
        "SERVER_NAME": None,
        # A request's outbox mails go out when it ends, so tests can wait for them in the mailbox.
        "PORTAL_OUTBOX_DELIVER_AFTER_COMMIT": True,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    controller, mailbox = start_smtp_server()
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[int, Mailbox]) -> Mailbox:
    smtp_server[1].clear()
    return smtp_server[1]


class IsolatedClient(FlaskClient):
    """Runs every request in a fresh context, as a server does: nothing in ``g`` or in the
    test's database session leaks into the request, and back. Tests commit before requesting."""

    def open(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        kwargs.setdefault("buffered", True)  # a streamed body is produced inside the request's context too
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def database_url() -> str:
    if not TEST_DATABASE_URL:
        return "sqlite"
    engine = sa.create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        pytest.exit(f"PostgreSQL at PORTAL_TEST_DATABASE_URL is not reachable: {error}", returncode=3)
    finally:
        engine.dispose()
    return TEST_DATABASE_URL


_schema_ready: set[str] = set()


def reset_schema_once(url: str) -> None:
    """On PostgreSQL build the schema once per run; tests then truncate."""
    if url in _schema_ready:
        return
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    db.create_all()
    _schema_ready.add(url)


def truncate_all() -> None:
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_app(database_url: str, smtp_server: tuple[int, Mailbox], tmp_path: Path) -> Iterator[object]:
    """Build an app with extra settings; its database is clean and removed afterwards."""
    built: list[Flask] = []

    def build(**overrides: object) -> Flask:
        url = database_url if uses_postgresql() else f"sqlite:///{tmp_path / f'portal{len(built)}.sqlite'}"
        app = create_app(portal_test_config(url, smtp_server[0], **overrides))
        app.test_client_class = IsolatedClient
        create_schema(app)
        built.append(app)
        return app

    yield build
    for app in built:
        drop_data(app)


def create_schema(app: Flask) -> None:
    """A clean schema: created per test on SQLite, once per run (then truncated) on PostgreSQL."""
    with app.app_context():
        if uses_postgresql():
            reset_schema_once(app.config["SQLALCHEMY_DATABASE_URI"])
        else:
            db.create_all()


def drop_data(app: Flask) -> None:
    """Close the app's connections; on PostgreSQL empty every table for the next test."""
    with app.app_context():
        db.session.remove()
        if uses_postgresql():
            truncate_all()
        db.engine.dispose()


@pytest.fixture
def app(make_app: object) -> Iterator[Flask]:
    application = make_app()  # type: ignore[operator]
    with application.app_context():
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
