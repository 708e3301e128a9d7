"""Talking to the portal over HTTP as a person would: the JSON API with a token, the pages with a browser.

Outlets apply through the JSON API with their tokens and, where the API offers no flow, through the
web pages with a signed-in browser session (``requests.Session``: sign in, read the form's CSRF token,
post), exactly as an editor would. Staff decide through the API with the reviewer's token and use the
staff pages in one session that passed the second factor.

Every step records :class:`~drill.plan.Check` objects instead of raising (:class:`_Checks` collects
them), so the report shows what failed; :class:`DrillError` is raised only when the drill cannot go on.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from drill.office import Office, OutletAccount, StaffAccount
from drill.plan import Check

TIMEOUT = 10.0


class DrillError(RuntimeError):
    """The drill cannot continue (the portal is unreachable, a sign-in fails, ...)."""


# --- HTML forms ---------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    #: (name, value) of inputs, textareas, checked boxes and selected options, in document order.
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: name -> every option value of a select
    options: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)

    def names(self) -> list[str]:
        return [n for n, _ in self.fields]


class _PageParser(HTMLParser):
    """Forms (with their fields) and links of a page; enough of HTML for the portal's own markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a.get("enctype", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], "multiple" in a)
            self._selected = False
            self._form.options[a["name"]] = []
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._form.options[self._select[0]].append(value)
            if "selected" in a:
                self._selected = True
                self._form.fields.append((self._select[0], value))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            choices = self._form.options.get(name, []) if self._form is not None else []
            if not multiple and not self._selected and choices and self._form is not None:
                self._form.fields.append((name, choices[0]))  # a browser sends the first option
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def find_form(html: str, action_suffix: str = "", *, having: str | None = None) -> Form:
    """The first form whose action ends with ``action_suffix`` (and that has field ``having``)."""
    for form in parse_page(html).forms:
        path = urlsplit(form.action).path if form.action else ""
        if (not action_suffix or path.endswith(action_suffix)) and (having is None or having in form.names()):
            return form
    raise LookupError(f"no form ending with {action_suffix!r} (field {having!r}) on the page")


def flash_messages(html: str) -> list[str]:
    """The page's notices and form errors, as text (for a check's detail)."""
    found = re.findall(r'class="(?:notice notice-\w+[^"]*|field-error)"[^>]*>(.*?)</', html, flags=re.S)
    items = re.findall(r'<div class="error-summary".*?</div>', html, flags=re.S)
    texts = [re.sub(r"<[^>]+>", " ", t) for t in [*found, *items]]
    return [" ".join(t.split()) for t in texts if t.strip()]


# --- HTTP: the API with a token, the pages with a browser session -------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  #: parsed JSON, or the text when it is not JSON

    @property
    def code(self) -> str | None:
        """The API's stable error code."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None

    def describe(self) -> str:
        text = str(self.body)
        return f"{self.status} {text[:300]}"


def api(portal_url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
    """One API call with a bearer token; a network failure raises DrillError."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        response = requests.request(
            method, f"{portal_url.rstrip('/')}/api/v1{path}", json=body, headers=headers, timeout=TIMEOUT
        )
    except requests.RequestException as error:
        raise DrillError(f"{method} /api/v1{path}: {error}") from error
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text
    return Answer(response.status_code, parsed)


class Browser:
    """A person's browser: one signed-in session (cookies), forms read before they are posted."""

    def __init__(self, portal_url: str, email: str, password: str, staff: StaffAccount | None = None) -> None:
        self.base = portal_url.rstrip("/")
        self.email = email
        self._password = password
        self._staff = staff
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "csu-drill/1 (requests)"
        self.lock = threading.Lock()  #: one request at a time, as a person with one tab
        self.signed_in = False

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/")) if not path.startswith("http") else path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.get(self.url(path), timeout=TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise DrillError(f"GET {path} as {self.email}: {error}") from error

    def post(self, path: str, data: Any = None, files: Any = None) -> requests.Response:
        """A form post; redirects are not followed, so the answer says whether it was accepted."""
        try:
            return self.session.post(self.url(path), data=data, files=files, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as error:
            raise DrillError(f"POST {path} as {self.email}: {error}") from error

    def page(self, path: str) -> str:
        response = self.get(path)
        if response.status_code != 200:
            raise DrillError(f"GET {path} as {self.email}: {response.status_code}")
        return response.text

    def sign_in(self) -> None:
        """The login form, and the second factor for staff; DrillError when refused."""
        form = find_form(self.page("/login"), having="password")
        data = dict(form.fields) | {"email": self.email, "password": self._password}
        response = self.post(form.action or "/login", data)
        if response.status_code != 302:
            raise DrillError(f"sign-in of {self.email} refused: {response.status_code} {flash_messages(response.text)}")
        location = response.headers.get("Location", "")
        if self._staff is not None:
            if "second-factor" not in location:
                raise DrillError(f"sign-in of {self.email} did not ask for the second factor ({location})")
            form = find_form(self.page(location), having="code")
            data = dict(form.fields) | {"code": self._staff.totp_code()}
            response = self.post(form.action or location, data)
            if response.status_code != 302:
                raise DrillError(f"second factor of {self.email} refused: {flash_messages(response.text)}")
        self.signed_in = True


_browsers: dict[tuple[str, str], Browser] = {}
_browsers_lock = threading.Lock()


def browser(portal_url: str, email: str, password: str, staff: StaffAccount | None = None) -> Browser:
    """The person's signed-in browser, kept for the whole drill: each person signs in once."""
    key = (portal_url.rstrip("/"), email)
    with _browsers_lock:
        found = _browsers.get(key)
        if found is None:
            found = _browsers[key] = Browser(portal_url, email, password, staff)
    with found.lock:
        if not found.signed_in:
            found.sign_in()
    return found


def staff_browser(portal_url: str, office: Office) -> Browser:
    return browser(portal_url, office.reviewer.email, office.reviewer.password, office.reviewer)


def databox_clerk_browser(portal_url: str, office: Office) -> Browser:
    """The staff member who records data-box deliveries: the admin, so that the reviewer, who decides,
    is another person (four eyes: whoever recorded a submission may not approve it)."""
    return browser(portal_url, office.admin.email, office.admin.password, office.admin)


def outlet_browser(portal_url: str, account: OutletAccount) -> Browser:
    return browser(portal_url, account.email, account.password)


# --- signing as the outlet's editor ----------------------------------------------------------------------


def sign_pdf(pdf: bytes, office: Office) -> bytes:
    """Sign as the outlet's editor does: the demo qualified certificate, PAdES, an incremental update."""
    from portal.signatures.demo import DemoPKI, sign_with_demo_signer

    return sign_with_demo_signer(pdf, DemoPKI(office.pki_folder))


# --- outcomes ------------------------------------------------------------------------------------------


class _Checks:
    """Collects outcomes per check name, then records one Check each (thread-safe).

    A check expected ``count`` times fails when fewer succeeded, even without a recorded problem.
    """

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._problems: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self._expected: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def expect(self, name: str, count: int | None = None) -> None:
        with self._lock:
            self._problems.setdefault(name, [])
            self._expected[name] = count

    def ok(self, name: str) -> None:
        with self._lock:
            self._problems.setdefault(name, [])
            self._counts[name] = self._counts.get(name, 0) + 1

    def fail(self, name: str, problem: str) -> None:
        with self._lock:
            self._problems.setdefault(name, []).append(problem)

    def close(self, details: dict[str, str] | None = None) -> list[Check]:
        checks = []
        for name, problems in self._problems.items():
            done = self._counts.get(name, 0)
            expected = self._expected.get(name)
            if not problems and expected is not None and done < expected:
                problems = [f"only {done} of {expected}"]
            if problems:
                checks.append(Check(self.stage, name, False, f"{done} ok; " + "; ".join(problems)))
            else:
                checks.append(Check(self.stage, name, True, (details or {}).get(name) or f"{done} ok"))
        return checks


__all__ = [
    "Answer",
    "Browser",
    "DrillError",
    "Form",
    "api",
    "browser",
    "databox_clerk_browser",
    "find_form",
    "flash_messages",
    "outlet_browser",
    "parse_page",
    "sign_pdf",
    "staff_browser",
]
