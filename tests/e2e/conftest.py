"""Browser fixtures: the portal on a live port in a thread, and Debian's Chromium driven by Playwright.

Every page the ``page`` fixture loads is checked with axe-core for WCAG 2.1 A and AA; any violation fails the
test at teardown. axe-core comes from node_modules (``npm ci`` from package-lock.json, run by ``make assets``),
never from the network, and is evaluated through the DevTools protocol, so the Content-Security-Policy stays.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
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
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: The WCAG 2.1 success criteria of levels A and AA, as axe-core tags them.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = (
    "() => axe.run(document, {runOnly: {type: 'tag', values: " + json.dumps(AXE_TAGS) + "},"
    " resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
    " help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})))"
)

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


@dataclass
class AxeLog:
    """What axe-core found on each page of one test; pages it could not finish are checked again at the end."""

    checked: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return [
            f"{url}: {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}"  # type: ignore[arg-type]
            for url, found in self.checked.items()
            for v in found
        ]


def check_accessibility(page: Page, log: AxeLog | None = None) -> list[dict[str, object]]:
    """Run axe-core on the page as it is now; the violations (also recorded in ``log``)."""
    assert AXE.exists(), f"axe-core is missing at {AXE}: run `make assets` (npm ci from package-lock.json)"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, object]] = page.evaluate(AXE_RUN)
    if log is not None:
        key = page.url
        while key in log.checked and log.checked[key] != found:
            key += " (again)"
        log.checked[key] = found
    return found


def _watch(page: Page, log: AxeLog) -> None:
    def loaded(loaded_page: Page) -> None:
        url = loaded_page.url
        try:
            check_accessibility(loaded_page, log)
        except PlaywrightError:
            log.missed.append(url)  # the test moved on before axe finished: checked again at teardown

    page.on("load", loaded)


@pytest.fixture
def axe_log() -> AxeLog:
    return AxeLog()


@pytest.fixture
def page(browser: Browser, axe_log: AxeLog, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="cs-CZ")
    context.set_default_timeout(10_000)
    try:
        first = context.new_page()
        _watch(first, axe_log)
        yield first
        _recheck_missed(context, axe_log)
    finally:
        context.close()
    _write_axe_report(request.node.nodeid, axe_log)
    problems = axe_log.violations()
    assert not problems, "axe-core (WCAG 2.1 A/AA) found:\n" + "\n".join(problems)


def _recheck_missed(context: BrowserContext, log: AxeLog) -> None:
    """Pages the test left before axe finished: load each again (GET, same session) and check it."""
    for url in dict.fromkeys(log.missed):
        if url in log.checked or not url.startswith("http"):
            continue
        again = context.new_page()
        try:
            again.goto(url)
            check_accessibility(again, log)
        except PlaywrightError:
            pass  # a page that cannot be fetched again with GET (a download, a one-time link)
        finally:
            again.close()


def _write_axe_report(nodeid: str, log: AxeLog) -> None:
    folder = ARTIFACTS / "axe"
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() else "-" for c in nodeid.split("::")[-1])[:120]
    report = {"checked": log.checked, "left before axe finished": log.missed}
    (folder / f"{name}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")


def confirmed_outlet(email: str, *, name: str, ico: str, password: str):  # type: ignore[no-untyped-def]
    """A registered media organisation whose applicant has confirmed the e-mail (flushed, not committed)."""
    from portal.accounts import service as accounts
    from portal.db import utcnow

    outlet = accounts.register_outlet(
        organisation_name=name, ico=ico, address="Praha", website="", email=email, password=password, language="cs"
    )
    accounts.confirm_email(outlet, at=utcnow())
    return outlet
