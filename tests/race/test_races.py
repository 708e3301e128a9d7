"""Two requests at the same instant end as if they had come one after the other.

Each test fires a pair of requests through the real WSGI app from two threads released by one
barrier, many times, and checks that the outcome equals some serial order of the two: the loser is
refused with a 409 and leaves nothing behind (no audit row, no mail), the stored quota equals a
recount, and the allowlist's versions only move forward. PostgreSQL only: SQLite serialises every
writer by itself, so nothing could interleave there.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from io import BytesIO
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.access.allowlist import AllowlistVersion
from portal.accounts.models import Role, User
from portal.api import service as tokens
from portal.audit.models import AuditEvent
from portal.audit.service import verify_chain
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.registration.content import ApplicationContent, content_digest
from portal.registration.models import (
    AddressKind,
    AddressQuota,
    AddressSettings,
    Application,
    ApplicationVersion,
    VersionState,
)
from portal.registration.quota import claimed_addresses
from tests.conftest import uses_postgresql
from tests.factories import csrf_token, sign_in
from tests.signatures.pki import get_test_pki

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not uses_postgresql(), reason="needs PostgreSQL: SQLite serialises all writers by itself"),
]

TRIALS = 20
#: Outlets in force besides those a trial decides on, so that computing the allowlist takes a while.
BACKGROUND_OUTLETS = 40
#: When the allowlist polls of a trial start after the barrier, in seconds.
POLL_DELAYS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08)
DECISION_MAIL = "registration/mail/decision.txt"
REVOCATION_MAIL = "registration/mail/revoked.txt"
RECEIPT_MAIL = "registration/mail/receipt.txt"
S = VersionState


# The stage ------------------------------------------------------------------------------------------


@pytest.fixture
def race_app(make_app: Callable[..., Flask]) -> Any:
    """The portal with the test PKI trusted, no rate limits (many requests per minute), and mails
    kept in the outbox so a test can count them."""
    app = make_app(
        **get_test_pki().portal_config(),
        RATELIMIT_ENABLED=False,
        PORTAL_OUTBOX_DELIVER_AFTER_COMMIT=False,
    )
    with app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        db.session.commit()
        yield app


@pytest.fixture
def staff(race_app: Flask, make_staff: Callable[..., User]) -> tuple[User, str]:
    """A reviewer and an API token of theirs."""
    user = make_staff(role=Role.REVIEWER)
    return user, _token(user)


@pytest.fixture
def ops_token(race_app: Flask, make_staff: Callable[..., User]) -> str:
    return _token(make_staff(role=Role.OPS))


def _token(user: User) -> str:
    minted = tokens.mint(user, "race", lifetime_days=30, second_factor_passed=True, at=utcnow())
    db.session.commit()
    return minted.secret


def fire(*requests: Callable[[], TestResponse]) -> list[TestResponse]:
    """Run the requests from parallel threads released at the same instant; their responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list[TestResponse | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(index: int, request: Callable[[], TestResponse]) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = request()
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    db.session.commit()  # nothing of the test's own stays open while the requests run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    db.session.expire_all()
    return [r for r in responses if r is not None]


def trials(trial: Callable[[], None], count: int = TRIALS) -> None:
    """Run ``trial`` ``count`` times; fail with how many did not end as some serial order."""
    failures: list[str] = []
    for _ in range(count):
        try:
            trial()
        except Exception as error:  # an assertion, or a 500 propagated from a request
            db.session.rollback()
            failures.append(f"{type(error).__name__}: {str(error)[:500]}")
    assert not failures, f"{len(failures)} of {count} trials failed; first: {failures[0]}"


def api(app: Flask, method: str, url: str, secret: str, body: object = None) -> Callable[[], TestResponse]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    data = json.dumps(body if body is not None else {})
    return lambda: client.open(url, method=method, data=data, headers=headers, content_type="application/json")


def later(request: Callable[[], TestResponse], delay: float) -> Callable[[], TestResponse]:
    def delayed() -> TestResponse:
        time.sleep(delay)
        return request()

    return delayed


def code_of(response: TestResponse) -> str | None:
    body = response.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code")


def statuses(responses: list[TestResponse]) -> list[int]:
    return [r.status_code for r in responses]


def one_wins(responses: list[TestResponse]) -> int:
    """The index of the one request that succeeded; the other was refused with an expected 409."""
    codes = statuses(responses)
    assert sorted(codes) == [200, 409], [(r.status_code, r.get_data(as_text=True)[:300]) for r in responses]
    loser = responses[codes.index(409)]
    assert code_of(loser) in ("illegal_transition", "stale_version"), loser.get_json()
    return codes.index(200)


def actions(application: Application) -> list[str]:
    """The application's audit events, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "applications", AuditEvent.subject_id == str(application.id))
            .order_by(AuditEvent.id)
        )
    )


def mails(template: str, recipient: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template == template, OutboxMessage.recipient == recipient)
    )


def states(application: Application) -> list[S]:
    return [
        v.state
        for v in db.session.scalars(
            select(ApplicationVersion)
            .where(ApplicationVersion.application_id == application.id)
            .order_by(ApplicationVersion.number)
        )
    ]


def assert_quota_is_a_recount(organisation_id: int, election_id: int) -> dict[AddressKind, set[str]]:
    claimed = claimed_addresses(organisation_id, election_id)
    quota = db.session.get(AddressQuota, (organisation_id, election_id))
    stored = (quota.production_count, quota.test_count) if quota else (0, 0)
    assert stored == (len(claimed[AddressKind.PRODUCTION]), len(claimed[AddressKind.TEST]))
    assert stored[0] <= 5 and stored[1] <= 5
    return claimed


class Stage:
    """One election and the factories, for a trial's fresh outlet and applications."""

    def __init__(self, app: Flask, election: Any, make_applicant: Any, make_application: Any, staff: User) -> None:
        self.app = app
        self.election = election
        self.make_applicant = make_applicant
        self.make_application = make_application
        self.staff = staff
        self.count = 0

    def outlet(self) -> tuple[User, str]:
        applicant = self.make_applicant()
        return applicant, _token(applicant)

    def application(self, applicant: User, state: str = "draft", production: tuple[str, ...] = ()) -> Application:
        return self.make_application(
            self.election, applicant, production=production or (self.address(),), state=state, staff=self.staff
        )

    def address(self) -> str:
        """A fresh address (IPv6 documentation range: never runs out)."""
        self.count += 1
        return f"2001:db8::{self.count:x}"

    def amendment(self, application: Application) -> ApplicationVersion:
        from portal.access import service as decisions
        from portal.registration import service

        applicant = application.created_by
        draft = service.amend(application, user=applicant, at=utcnow())
        content = ApplicationContent(
            contact_email=applicant.email,
            contact_phone="+420 274 051 111",
            production=[self.address()],
            test=[],
            accept_terms=True,
        )
        service.save_draft(draft, content, decisions.address_policy(), at=utcnow())
        service.submit(draft, decisions.address_policy(), user=applicant, at=utcnow())
        return draft


@pytest.fixture
def stage(race_app, staff, make_election, make_applicant, make_application) -> Stage:  # type: ignore[no-untyped-def]
    election = make_election(code="prez2099")
    db.session.commit()
    return Stage(race_app, election, make_applicant, make_application, staff[0])


def base(application: Application) -> str:
    return f"/api/v1/applications/{application.id}"


# The office's decisions -----------------------------------------------------------------------------


def test_approve_and_reject_of_one_version_make_one_decision(stage: Stage, staff: tuple[User, str]) -> None:
    def trial() -> None:
        applicant, _secret = stage.outlet()
        application = stage.application(applicant, "submitted")
        responses = fire(
            api(stage.app, "POST", f"{base(application)}/approve", staff[1]),
            api(stage.app, "POST", f"{base(application)}/reject", staff[1]),
        )
        winner = one_wins(responses)
        assert states(application) == [[S.APPROVED, S.REJECTED][winner]]
        decisions = [a for a in actions(application) if a in ("application.approve", "application.reject")]
        assert decisions == [["application.approve", "application.reject"][winner]]
        assert mails(DECISION_MAIL, applicant.email) == 1
        assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)

    trials(trial)


def test_approve_and_the_outlets_withdrawal_end_withdrawn(stage: Stage, staff: tuple[User, str]) -> None:
    def trial() -> None:
        applicant, secret = stage.outlet()
        application = stage.application(applicant, "submitted")
        approve, withdraw = fire(
            api(stage.app, "POST", f"{base(application)}/approve", staff[1]),
            api(stage.app, "POST", f"{base(application)}/withdraw", secret),
        )
        # Serially: approve then withdraw (both succeed), or withdraw then approve (refused).
        assert withdraw.status_code == 200, withdraw.get_json()
        assert approve.status_code in (200, 409), approve.get_json()
        assert states(application) == [S.WITHDRAWN]
        events = [a for a in actions(application) if a in ("application.approve", "application.withdraw")]
        if approve.status_code == 200:
            assert events == ["application.approve", "application.withdraw"]
            assert mails(DECISION_MAIL, applicant.email) == 1
        else:
            assert code_of(approve) == "illegal_transition"
            assert events == ["application.withdraw"]
            assert mails(DECISION_MAIL, applicant.email) == 0
        assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)

    trials(trial)


def test_approving_an_amendment_never_loses_a_revocation(stage: Stage, staff: tuple[User, str]) -> None:
    def trial() -> None:
        applicant, _secret = stage.outlet()
        application = stage.application(applicant, "approved")
        stage.amendment(application)
        approve, revoke = fire(
            api(stage.app, "POST", f"{base(application)}/approve", staff[1]),
            api(stage.app, "POST", f"{base(application)}/revoke", staff[1]),
        )
        assert statuses([approve, revoke]) == [200, 200], (approve.get_json(), revoke.get_json())
        # Revoke first: v1 rejected, then v2 approved. Approve first: v1 superseded, then v2 revoked.
        assert states(application) in ([S.REJECTED, S.APPROVED], [S.SUPERSEDED, S.REJECTED])
        counted = Counter(actions(application))
        assert (counted["application.revoke"], counted["application.approve"]) == (1, 2)
        assert mails(REVOCATION_MAIL, applicant.email) == 1
        assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)

    trials(trial)


def test_two_approvals_of_one_version_make_one_decision(stage: Stage, staff: tuple[User, str]) -> None:
    def trial() -> None:
        applicant, _secret = stage.outlet()
        application = stage.application(applicant, "submitted")
        responses = fire(
            api(stage.app, "POST", f"{base(application)}/approve", staff[1]),
            api(stage.app, "POST", f"{base(application)}/approve", staff[1]),
        )
        one_wins(responses)
        assert states(application) == [S.APPROVED]
        assert Counter(actions(application))["application.approve"] == 1
        assert mails(DECISION_MAIL, applicant.email) == 1

    trials(trial)


def test_two_revocations_make_one(stage: Stage, staff: tuple[User, str]) -> None:
    def trial() -> None:
        applicant, _secret = stage.outlet()
        application = stage.application(applicant, "approved")
        responses = fire(
            api(stage.app, "POST", f"{base(application)}/revoke", staff[1]),
            api(stage.app, "POST", f"{base(application)}/revoke", staff[1]),
        )
        one_wins(responses)
        assert states(application) == [S.REJECTED]
        assert Counter(actions(application))["application.revoke"] == 1
        assert mails(REVOCATION_MAIL, applicant.email) == 1
        assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)

    trials(trial)


# The outlet's side --------------------------------------------------------------------------------------


def test_a_submission_racing_a_change_of_its_draft_keeps_the_quota(stage: Stage) -> None:
    def trial() -> None:
        applicant, secret = stage.outlet()
        stage.application(applicant, "approved", production=tuple(stage.address() for _ in range(3)))
        draft = stage.application(applicant, "draft", production=(stage.address(),))
        five = [stage.address() for _ in range(5)]
        content = {"contact_email": applicant.email, "contact_phone": "+420 274 051 111", "accept_terms": True}
        submit, put = fire(
            api(stage.app, "POST", f"{base(draft)}/submit", secret),
            api(stage.app, "PUT", base(draft), secret, {**content, "production": five}),
        )
        version = db.session.get(Application, draft.id).latest
        if submit.status_code == 200:  # submitted first: the change comes too late
            assert put.status_code == 409 and code_of(put) == "illegal_transition", put.get_json()
            assert version.state is S.SUBMITTED and len(version.addresses) == 1
            assert version.content_sha256 == content_digest(version)
        else:  # changed first: 3 + 5 is over the limit
            assert put.status_code == 200, put.get_json()
            assert submit.status_code == 409 and code_of(submit) == "quota_exceeded", submit.get_json()
            assert version.state is S.DRAFT
            assert set(version.addresses_of(AddressKind.PRODUCTION)) == set(five)
        assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)

    trials(trial)


def test_a_draft_submit_and_a_create_and_submit_of_one_outlet_both_succeed(stage: Stage) -> None:
    def trial() -> None:
        applicant, secret = stage.outlet()
        draft = stage.application(applicant, "draft", production=(stage.address(), stage.address()))
        body = {
            "election": stage.election.code,
            "contact_email": applicant.email,
            "contact_phone": "+420 274 051 111",
            "production": [stage.address(), stage.address()],
            "accept_terms": True,
            "submit": True,
        }
        submit, create = fire(
            api(stage.app, "POST", f"{base(draft)}/submit", secret),
            api(stage.app, "POST", "/api/v1/applications", secret, body),
        )
        assert (submit.status_code, create.status_code) == (200, 201), (submit.get_json(), create.get_json())
        claimed = assert_quota_is_a_recount(applicant.organisation_id, stage.election.id)
        assert len(claimed[AddressKind.PRODUCTION]) == 4

    trials(trial)


def test_two_amendments_at_once_make_one(stage: Stage) -> None:
    def trial() -> None:
        applicant, secret = stage.outlet()
        application = stage.application(applicant, "approved")
        responses = fire(
            api(stage.app, "POST", f"{base(application)}/amend", secret),
            api(stage.app, "POST", f"{base(application)}/amend", secret),
        )
        one_wins(responses)
        assert states(application) == [S.APPROVED, S.DRAFT]
        assert Counter(actions(application))["application.amendment_started"] == 1

    trials(trial)


# Signed submissions --------------------------------------------------------------------------------------


@pytest.fixture
def signed_stage(race_app, staff, make_election, make_applicant, make_application) -> Stage:  # type: ignore[no-untyped-def]
    election = make_election(code="sen2099", signature_required=True)
    db.session.commit()
    return Stage(race_app, election, make_applicant, make_application, staff[0])


def signed_outlet(stage: Stage) -> tuple[User, str, Application, FlaskClient, bytes]:
    """A fresh outlet signed in, its draft, and the draft's PDF signed with a qualified certificate."""
    applicant, secret = stage.outlet()
    draft = stage.application(applicant, "draft", production=(stage.address(),))
    db.session.commit()
    client = stage.app.test_client()
    sign_in(client, applicant)
    url = f"/organisations/{applicant.organisation_id}/applications/{draft.id}"
    pdf = client.get(f"{url}/application.pdf?lang=cs").get_data()
    return applicant, secret, draft, client, get_test_pki().sign_pdf(pdf, "qualified")


def upload(client: FlaskClient, application: Application, signed: bytes) -> Callable[[], TestResponse]:
    url = f"/organisations/{application.organisation_id}/applications/{application.id}/signed"
    token = csrf_token(client)
    return lambda: client.post(
        url,
        data={"csrf_token": token, "signed_pdf": (BytesIO(signed), "podepsano.pdf")},
        content_type="multipart/form-data",
    )


def test_a_signed_upload_racing_a_change_submits_what_was_signed(signed_stage: Stage) -> None:
    def trial() -> None:
        applicant, secret, draft, client, signed = signed_outlet(signed_stage)
        signed_addresses = draft.latest.addresses_of(AddressKind.PRODUCTION)
        changed = {
            "contact_email": applicant.email,
            "contact_phone": "+420 274 051 111",
            "accept_terms": True,
            "production": [signed_stage.address()],
        }
        uploaded, put = fire(upload(client, draft, signed), api(signed_stage.app, "PUT", base(draft), secret, changed))
        assert uploaded.status_code == 302
        version = db.session.get(Application, draft.id).latest
        if version.state is S.SUBMITTED:  # the upload came first: the change is refused
            assert put.status_code == 409 and code_of(put) == "illegal_transition", put.get_json()
            assert version.addresses_of(AddressKind.PRODUCTION) == signed_addresses
            assert version.content_sha256 == content_digest(version)
            assert mails(RECEIPT_MAIL, applicant.email) == 1
        else:  # the change came first: the signed PDF is stale, nothing is submitted
            assert put.status_code == 200, put.get_json()
            assert version.state is S.DRAFT and version.submission_record is None
            assert version.addresses_of(AddressKind.PRODUCTION) == changed["production"]
            assert mails(RECEIPT_MAIL, applicant.email) == 0
            from portal.registration.messages import error_message
            from portal.registration.signing import PdfStale

            with signed_stage.app.test_request_context():
                stale = error_message(PdfStale(verdict=None))  # type: ignore[arg-type]
            assert stale in client.get(uploaded.headers["Location"]).get_data(as_text=True)

    trials(trial)


def test_a_signed_upload_racing_a_withdrawal_ends_withdrawn(signed_stage: Stage) -> None:
    def trial() -> None:
        applicant, secret, draft, client, signed = signed_outlet(signed_stage)
        uploaded, withdraw = fire(
            upload(client, draft, signed), api(signed_stage.app, "POST", f"{base(draft)}/withdraw", secret)
        )
        assert uploaded.status_code == 302 and withdraw.status_code == 200, withdraw.get_json()
        assert states(draft) == [S.WITHDRAWN]
        submitted = "application.submit" in actions(draft)
        assert mails(RECEIPT_MAIL, applicant.email) == int(submitted)
        assert_quota_is_a_recount(applicant.organisation_id, signed_stage.election.id)

    trials(trial)


# The allowlist ---------------------------------------------------------------------------------------------


def published(election_id: int) -> list[set[str]]:
    """The addresses of each allowlist version of the election, oldest first."""
    versions = db.session.scalars(
        select(AllowlistVersion).where(AllowlistVersion.election_id == election_id).order_by(AllowlistVersion.version)
    ).all()
    return [{entry.address for entry in v.published_entries() or []} for v in versions]


def presence(versions: list[set[str]], address: str) -> str:
    """ "0" and "1" per version: whether it carried ``address``."""
    return "".join("1" if address in v else "0" for v in versions)


def test_allowlist_versions_only_move_forward_under_mixed_decisions(
    stage: Stage, staff: tuple[User, str], ops_token: str
) -> None:
    allowlist_url = f"/api/v1/elections/{stage.election.code}/allowlist"
    revoked: list[str] = []
    approved: list[str] = []
    for _ in range(BACKGROUND_OUTLETS):  # a list of some length, as on election night
        stage.application(stage.outlet()[0], "approved")

    def trial() -> None:
        outlet_a, _a = stage.outlet()
        outlet_b, _b = stage.outlet()
        in_force = stage.application(outlet_a, "approved")
        waiting = stage.application(outlet_b, "submitted")
        fire(api(stage.app, "GET", allowlist_url, ops_token))
        # Agents poll at any moment: before, between and after the decisions are stored.
        polls = [later(api(stage.app, "GET", allowlist_url, ops_token), delay) for delay in POLL_DELAYS]
        responses = fire(
            api(stage.app, "POST", f"{base(in_force)}/revoke", staff[1]),
            api(stage.app, "POST", f"{base(waiting)}/approve", staff[1]),
            *polls,
        )
        assert statuses(responses) == [200] * (2 + len(polls)), [r.get_json() for r in responses]
        revoked.extend(in_force.latest.addresses_of(AddressKind.PRODUCTION))
        approved.extend(waiting.latest.addresses_of(AddressKind.PRODUCTION))

    trials(trial)
    fire(api(stage.app, "GET", allowlist_url, ops_token))
    versions = published(stage.election.id)
    assert all(older != newer for older, newer in pairwise(versions)), "a version repeats"
    # A revoked address: absent, present, then absent for good; an approved one never leaves.
    came_back = [a for a in revoked if "1" in presence(versions, a).lstrip("0").lstrip("1")]
    vanished = [a for a in approved if "10" in presence(versions, a)]
    assert not came_back and not vanished, (
        f"{len(came_back)} of {len(revoked)} revoked addresses came back, "
        f"{len(vanished)} of {len(approved)} approved addresses vanished for a version"
    )
    assert not versions[-1] & set(revoked) and set(approved) <= versions[-1]
    assert verify_chain().ok


# The safety net -----------------------------------------------------------------------------------------


def test_a_lock_the_database_gives_up_on_is_a_503_that_changes_nothing(
    make_app: Callable[..., Flask], make_staff: Callable[..., User], make_election: Any, make_application: Any
) -> None:
    """Whatever the database refuses that no rule foresaw (here a lock timeout) is a 503, never a 500."""
    app = make_app(
        RATELIMIT_ENABLED=False,
        PORTAL_OUTBOX_DELIVER_AFTER_COMMIT=False,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c lock_timeout=200"}},
    )
    with app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        reviewer = make_staff(role=Role.REVIEWER)
        application = make_application(make_election(code="prez2099"), state="submitted")
        db.session.commit()
        secret = _token(reviewer)
        holder = db.engine.connect()  # another transaction holds the application's row
        transaction = holder.begin()
        holder.execute(select(Application.id).where(Application.id == application.id).with_for_update())
        try:
            (response,) = fire(api(app, "POST", f"{base(application)}/approve", secret))
        finally:
            transaction.rollback()
            holder.close()
        assert response.status_code == 503 and code_of(response) == "database_busy", response.get_data()
        assert response.headers["Retry-After"] == "1"
        assert states(application) == [S.SUBMITTED]
        assert "application.approve" not in actions(application)
        assert mails(DECISION_MAIL, application.created_by.email) == 0
