"""Browser fixtures: the portal on a live port in a thread, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from portal import create_app
from tests.conftest import IN_CI, create_schema, drop_data, portal_test_config, uses_postgresql
from tests.mailbox import Mailbox, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: Mark a browser test module with this: outside CI a machine without Chromium skips;
#: under CI=true the browser fixture fails instead.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not IN_CI and not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


class LiveServer:
    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.url = url

    def text(self, language: str, message: str) -> str:
        """``message`` as the portal shows it in ``language``."""
        with self.app.test_request_context(), force_locale(language):
            return gettext(message)


@pytest.fixture
def live_settings() -> dict[str, object]:
    """Extra portal settings for the live server; a test module overrides this fixture."""
    return {}


@pytest.fixture
def live_server(
    tmp_path: Path, database_url: str, smtp_server: tuple[int, Mailbox], live_settings: dict[str, object]
) -> Iterator[LiveServer]:
    """The portal on 127.0.0.1 in a thread; in-memory SQLite is per connection, so a file here."""
    if not uses_postgresql():
        database_url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(portal_test_config(database_url, smtp_server[0], PORTAL_BASE_URL=url, **live_settings))
    create_schema(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        drop_data(app)


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"CI=true needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="cs-CZ")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def confirmed_outlet(email: str, *, name: str, ico: str, password: str):  # type: ignore[no-untyped-def]
    """A registered media organisation whose applicant has confirmed the e-mail (flushed, not committed)."""
    from portal.accounts import service as accounts
    from portal.db import utcnow

    outlet = accounts.register_outlet(
        organisation_name=name, ico=ico, address="Praha", website="", email=email, password=password, language="cs"
    )
    accounts.confirm_email(outlet, at=utcnow())
    return outlet
