"""Factory fixtures returning callables, and the auth helper. Factories flush; they never commit."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime

import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.accounts import service as accounts
from portal.accounts.ico import ico_check_digit
from portal.accounts.models import Organisation, Role, User
from portal.db import utcnow
from portal.extensions import db

PASSWORD = "correct horse battery"
_counter = itertools.count(1)
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def valid_ico(seed: int) -> str:
    first_seven = f"{seed:07d}"
    return first_seven + str(ico_check_digit(first_seven))


@pytest.fixture
def make_organisation():  # type: ignore[no-untyped-def]
    def make(name: str | None = None, ico: str | None = None) -> Organisation:
        number = next(_counter)
        organisation = Organisation(
            name=name or f"Redakce {number}",
            ico=ico or valid_ico(1000 + number * 7),
            address=f"Ulice {number}, Praha",
            website="",
        )
        db.session.add(organisation)
        db.session.flush()
        return organisation

    return make


@pytest.fixture
def make_applicant(make_organisation):  # type: ignore[no-untyped-def]
    def make(
        organisation: Organisation | None = None,
        email: str | None = None,
        confirmed: bool = True,
        language: str = "cs",
    ) -> User:
        organisation = organisation or make_organisation()
        user = User(
            email=email or f"applicant{next(_counter)}@outlet.example",
            password_hash=_hash(),
            role=Role.APPLICANT,
            organisation=organisation,
            language=language,
            email_confirmed_at=utcnow() if confirmed else None,
        )
        db.session.add(user)
        db.session.flush()
        return user

    return make


@pytest.fixture
def make_staff():  # type: ignore[no-untyped-def]
    def make(role: Role = Role.REVIEWER, second_factor: bool = True, email: str | None = None) -> User:
        user = accounts.create_staff(
            email=email or f"{role.value}{next(_counter)}@czso.example",
            role=role,
            password=PASSWORD,
            language="cs",
            at=utcnow(),
        )
        if second_factor:
            user.totp_secret = pyotp.random_base32()
        db.session.flush()
        return user

    return make


def _hash() -> str:
    from portal.accounts.passwords import hash_password

    return hash_password(PASSWORD)


def csrf_token(client: FlaskClient, url: str = "/") -> str:
    """The session's CSRF token, read from a page as a browser would."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_PATTERN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict[str, object], **kwargs: object) -> TestResponse:
    """POST like a browser: with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **data}, **kwargs)


def totp_code(user: User, at: datetime | None = None) -> str:
    """A code the portal will accept now: a later step than the last one used (no replay)."""
    assert user.totp_secret
    totp = pyotp.TOTP(user.totp_secret)
    step = totp.timecode(at or utcnow())
    if user.totp_last_step is not None and step <= user.totp_last_step:
        step = user.totp_last_step + 1
    return totp.generate_otp(step)


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD, second_factor: bool = True) -> TestResponse:
    """Sign ``user`` in through the real forms; staff with a second factor also enter a code."""
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    if user.totp_secret and second_factor:
        response = post_form(client, "/login/second-factor", {"code": totp_code(user)})
        assert response.status_code == 302, response.get_data(as_text=True)
    return response


def make_test_election(
    code: str | None = None,
    deadline: date = date(2099, 12, 18),
    first_voting_day: date | None = None,
    kind: str = "president",
    signature_required: bool = False,
):  # type: ignore[no-untyped-def]
    """An election; by default its deadline is far ahead, so the real clock finds it open."""
    from portal.elections.models import ElectionKind, ElectionStatus
    from portal.elections.service import ElectionPlan, create_election, default_rounds

    first_voting_day = first_voting_day or date(deadline.year + 1, 1, 13)
    return create_election(
        ElectionPlan(
            code=code or f"test{next(_counter)}",
            name_cs="Testovací volba",
            name_en="Test election",
            kind=ElectionKind(kind),
            status=ElectionStatus.ANNOUNCED,
            application_deadline=deadline,
            rounds=default_rounds(ElectionKind(kind), first_voting_day),
            signature_required=signature_required,
        )
    )


@pytest.fixture
def make_election():  # type: ignore[no-untyped-def]
    return make_test_election


@pytest.fixture
def make_application(make_applicant):  # type: ignore[no-untyped-def]
    """An application with its content saved; ``state`` submitted or approved moves it on."""
    from allowlist.addresses import AddressPolicy
    from portal.access import service as decisions
    from portal.registration import service
    from portal.registration.content import ApplicationContent

    policy = AddressPolicy(allow_documentation=True)

    def make(
        election,
        applicant: User | None = None,
        production=("192.0.2.10",),
        test=(),
        state: str = "draft",
        at: datetime | None = None,
        staff: User | None = None,
    ):  # type: ignore[no-untyped-def]
        at = at or utcnow()
        applicant = applicant or make_applicant()
        application = service.start_application(applicant.organisation, election, applicant, at=at)
        content = ApplicationContent(
            contact_email=applicant.email,
            contact_phone="+420 274 051 111",
            production=list(production),
            test=list(test),
            accept_terms=True,
        )
        service.save_draft(application.latest, content, policy, at=at)
        if state in ("submitted", "approved"):
            service.submit(application.latest, policy, user=applicant, at=at)
        if state == "approved":
            assert staff is not None, "approving needs a staff user"
            decisions.approve(application.latest, staff=staff, at=at, acknowledge_conflicts=True)
        return application

    return make
