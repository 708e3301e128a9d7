"""Application rules: states, deadline, the 5+5 quota, conflicts, amendments."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from allowlist.addresses import AddressPolicy
from portal.access import service as decisions
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.elections.prague import end_of_prague_day
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.registration import service
from portal.registration.content import ApplicationContent
from portal.registration.errors import (
    ConflictsNotAcknowledged,
    ContentInvalid,
    DeadlinePassed,
    IllegalTransition,
    QuotaExceeded,
    SignatureRequired,
)
from portal.registration.models import AddressQuota, VersionState

POLICY = AddressPolicy(allow_documentation=True)
SECOND = timedelta(seconds=1)
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def staff(make_staff):
    return make_staff(role=Role.REVIEWER)


def content(**changes):
    values = dict(
        contact_email="redakce@outlet.example",
        contact_phone="274 051 111",
        production=["192.0.2.10"],
        test=[],
        accept_terms=True,
        note="",
    )
    values.update(changes)
    return ApplicationContent(**values)


def test_draft_stores_canonical_addresses_and_an_e164_phone(election, make_applicant):
    applicant = make_applicant()
    application = service.start_application(applicant.organisation, election, applicant, at=NOW)
    service.save_draft(application.latest, content(production=["2001:DB8:0::10", " 192.0.2.11/32 "]), POLICY, at=NOW)
    version = application.latest
    assert version.addresses_of("production") == ["2001:db8::10", "192.0.2.11"]
    assert version.contact_phone == "+420274051111"
    assert version.state is VersionState.DRAFT


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"contact_email": ""}, "contact_email", "required"),
        ({"contact_email": "not an address"}, "contact_email", "invalid_email"),
        ({"contact_phone": "12"}, "contact_phone", "invalid_phone"),
        ({"contact_phone": ""}, "contact_phone", "required"),
        ({"production": []}, "production", "required"),
        ({"production": ["10.0.0.1"]}, "production", "address_private"),
        ({"production": ["192.0.2.1", "192.0.2.01"]}, "production", "address_leading_zero"),
        ({"production": ["192.0.2.1", "192.0.2.1/32"]}, "production", "address_duplicate"),
        ({"production": [f"192.0.2.{i}" for i in range(1, 7)]}, "production", "too_many"),
        ({"test": ["192.0.2.10"]}, "test", "production_and_test"),
        ({"accept_terms": False}, "accept_terms", "required"),
        ({"note": "x" * 2001}, "note", "too_long"),
    ],
)
def test_incomplete_or_invalid_content_is_refused_by_field(election, make_applicant, changes, field, code):
    applicant = make_applicant()
    application = service.start_application(applicant.organisation, election, applicant, at=NOW)
    with pytest.raises(ContentInvalid) as refused:
        service.save_draft(application.latest, content(**changes), POLICY, at=NOW)
        service.submit(application.latest, POLICY, user=applicant, at=NOW)
    assert refused.value.errors[field][0] == code
    assert application.latest.state is VersionState.DRAFT


def test_submission_records_time_and_digest(election, make_application):
    application = make_application(election, state="submitted", at=NOW)
    version = application.latest
    assert version.state is VersionState.SUBMITTED and version.submitted_at == NOW
    assert len(version.content_sha256) == 64
    # The digest covers the content: another address gives another digest.
    other = make_application(election, production=["192.0.2.99"], state="submitted", at=NOW)
    assert other.latest.content_sha256 != version.content_sha256


def test_signature_required_election_refuses_a_plain_submission(app, make_election, make_application):
    election = make_election(signature_required=True)
    application = make_application(election)
    with pytest.raises(SignatureRequired):
        service.submit(application.latest, POLICY, user=application.created_by, at=NOW)


ILLEGAL = [
    ("draft", "approve"), ("draft", "reject"), ("submitted", "submit"), ("approved", "approve"),
    ("approved", "reject"), ("approved", "submit"), ("rejected", "approve"), ("rejected", "reject"),
    ("rejected", "submit"), ("withdrawn", "approve"), ("withdrawn", "withdraw"), ("withdrawn", "submit"),
    ("submitted", "amend"), ("draft", "amend"), ("rejected", "amend"), ("withdrawn", "amend"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_illegal_transitions_are_refused(election, make_application, staff, state, action):
    application = make_application(election, state="approved" if state == "approved" else "draft", staff=staff)
    version = application.latest
    if state in ("submitted", "rejected"):
        service.submit(version, POLICY, user=application.created_by, at=NOW)
    if state == "rejected":
        decisions.reject(version, staff=staff, at=NOW)
    if state == "withdrawn":
        service.withdraw(application, user=application.created_by, at=NOW)
    assert version.state.value == state
    actions = {
        "approve": lambda: decisions.approve(version, staff=staff, at=NOW),
        "reject": lambda: decisions.reject(version, staff=staff, at=NOW),
        "submit": lambda: service.submit(version, POLICY, user=application.created_by, at=NOW),
        "withdraw": lambda: service.withdraw(application, user=application.created_by, at=NOW),
        "amend": lambda: service.amend(application, user=application.created_by, at=NOW),
    }
    with pytest.raises(IllegalTransition):
        actions[action]()
    assert version.state.value == state


@pytest.mark.parametrize(
    "deadline",
    [
        date(2026, 3, 27),
        date(2026, 3, 29),
        date(2026, 10, 23),
        date(2026, 10, 25),
        date(2026, 7, 10),
        date(2026, 12, 18),
    ],
)
def test_deadline_one_second_before_and_after_the_end_of_the_day(app, make_election, make_application, deadline):
    election = make_election(deadline=deadline, first_voting_day=deadline + timedelta(days=20))
    end = end_of_prague_day(deadline)
    in_time = make_application(election, at=end - SECOND * 2)
    service.submit(in_time.latest, POLICY, user=in_time.created_by, at=end - SECOND)
    assert in_time.latest.state is VersionState.SUBMITTED
    late = make_application(election, at=end - SECOND * 2)
    with pytest.raises(DeadlinePassed) as refused:
        service.submit(late.latest, POLICY, user=late.created_by, at=end + SECOND)
    assert refused.value.closes_at == end
    with pytest.raises(DeadlinePassed):
        service.start_application(late.organisation, election, late.created_by, at=end + SECOND)


def test_five_production_and_five_test_addresses_across_applications(election, make_applicant, make_application, staff):
    applicant = make_applicant()
    first = make_application(
        election,
        applicant,
        production=["192.0.2.1", "192.0.2.2", "192.0.2.3"],
        test=["198.51.100.1", "198.51.100.2", "198.51.100.3"],
        state="approved",
        staff=staff,
    )
    make_application(
        election,
        applicant,
        production=["192.0.2.4", "192.0.2.5"],
        test=["198.51.100.4", "198.51.100.5"],
        state="submitted",
    )
    quota = db.session.get(AddressQuota, (applicant.organisation_id, election.id))
    assert (quota.production_count, quota.test_count) == (5, 5)

    sixth = make_application(election, applicant, production=["192.0.2.6"])
    with pytest.raises(QuotaExceeded) as refused:
        service.submit(sixth.latest, POLICY, user=applicant, at=NOW)
    assert (refused.value.kind, refused.value.limit, refused.value.claimed) == ("production", 5, 6)

    # An address already claimed by the same organisation does not count twice.
    again = make_application(election, applicant, production=["192.0.2.1"])
    service.submit(again.latest, POLICY, user=applicant, at=NOW)
    assert first.in_force is not None


def test_an_amendment_counts_beside_the_version_in_force_which_stays_in_force_until_decided(
    election, make_applicant, make_application, staff
):
    applicant = make_applicant()
    addresses = [f"192.0.2.{i}" for i in range(1, 5)]
    application = make_application(election, applicant, production=addresses, state="approved", staff=staff)
    approved = application.in_force
    draft = service.amend(application, user=applicant, at=NOW)
    # Both count until the decision: swapping one of 4 addresses claims 5; another one would claim 6.
    service.save_draft(draft, content(production=[*addresses[:3], "192.0.2.50", "192.0.2.51"]), POLICY, at=NOW)
    with pytest.raises(QuotaExceeded) as refused:
        service.submit(draft, POLICY, user=applicant, at=NOW)
    assert (refused.value.kind, refused.value.claimed) == ("production", 6)
    service.save_draft(draft, content(production=[*addresses[:3], "192.0.2.50"]), POLICY, at=NOW)
    service.submit(draft, POLICY, user=applicant, at=NOW)
    assert application.in_force is approved and application.pending is draft
    assert db.session.get(AddressQuota, (applicant.organisation_id, election.id)).production_count == 5

    decisions.reject(draft, staff=staff, at=NOW, internal_reason="not now")
    assert application.in_force is approved and approved.state is VersionState.APPROVED

    second = service.amend(application, user=applicant, at=NOW)
    service.save_draft(second, content(production=["192.0.2.60"]), POLICY, at=NOW)
    service.submit(second, POLICY, user=applicant, at=NOW)
    decisions.approve(second, staff=staff, at=NOW)
    assert application.in_force is second and approved.state is VersionState.SUPERSEDED
    quota = db.session.get(AddressQuota, (applicant.organisation_id, election.id))
    assert quota.production_count == 1


def test_withdrawal_frees_the_quota(election, make_applicant, make_application, staff):
    applicant = make_applicant()
    application = make_application(
        election, applicant, production=["192.0.2.1", "192.0.2.2"], state="approved", staff=staff
    )
    service.withdraw(application, user=applicant, at=NOW)
    assert application.in_force is None and application.latest.state is VersionState.WITHDRAWN
    assert db.session.get(AddressQuota, (applicant.organisation_id, election.id)).production_count == 0


def test_an_address_claimed_by_two_organisations_is_a_conflict_that_needs_acknowledging(
    election, make_application, staff
):
    first = make_application(election, production=["192.0.2.77"], state="submitted")
    second = make_application(election, production=["192.0.2.77", "192.0.2.78"], state="submitted")
    conflicts = decisions.conflicts_for(second.latest)
    assert [(c.address, c.organisation) for c in conflicts] == [("192.0.2.77", first.organisation.name)]
    with pytest.raises(ConflictsNotAcknowledged) as refused:
        decisions.approve(second.latest, staff=staff, at=NOW)
    assert refused.value.addresses == ["192.0.2.77"]
    assert second.latest.state is VersionState.SUBMITTED
    decisions.approve(second.latest, staff=staff, at=NOW, acknowledge_conflicts=True)
    assert second.latest.state is VersionState.APPROVED


def test_the_database_refuses_a_quota_over_the_limit(election, make_applicant):
    """The CHECK constraints hold even if a code path forgot to count."""
    from sqlalchemy.exc import IntegrityError

    applicant = make_applicant()
    db.session.add(AddressQuota(organisation_id=applicant.organisation_id, election_id=election.id, production_count=6))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_revocation_takes_the_approval_back_after_the_deadline_and_frees_the_quota(
    election, make_applicant, make_application, staff
):
    applicant = make_applicant()
    application = make_application(
        election, applicant, production=["192.0.2.1", "192.0.2.2"], test=["192.0.2.9"], state="approved", staff=staff
    )
    approved = application.in_force
    election_night = election.applications_close_at + timedelta(days=30)
    revoked = decisions.revoke(application, staff=staff, at=election_night, internal_reason="  cites no source  ")
    assert revoked is approved and approved.state is VersionState.REJECTED
    assert application.in_force is None
    assert approved.decided_by is staff and approved.decided_at == election_night
    assert approved.internal_reason == "cites no source"
    quota = db.session.get(AddressQuota, (applicant.organisation_id, election.id))
    assert (quota.production_count, quota.test_count) == (0, 0)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.revoke").order_by(AuditEvent.id.desc())
    ).first()
    assert event.subject_id == str(application.id) and event.reason == "cites no source"
    assert event.before["state"] == "approved" and event.after["state"] == "rejected"
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "registration/mail/revoked.txt"))
    assert {m.recipient for m in mails} == {applicant.email}


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected", "withdrawn"])
def test_only_an_approval_in_force_can_be_revoked(election, make_application, staff, state):
    made_as = {"withdrawn": "approved", "rejected": "submitted"}.get(state, state)
    application = make_application(election, state=made_as, staff=staff)
    if state == "rejected":
        decisions.reject(application.latest, staff=staff, at=NOW)
    if state == "withdrawn":
        service.withdraw(application, user=application.created_by, at=NOW)
    with pytest.raises(IllegalTransition):
        decisions.revoke(application, staff=staff, at=NOW)
    assert application.latest.state.value == state


def test_revocation_leaves_a_pending_amendment_to_its_own_decision(election, make_applicant, make_application, staff):
    applicant = make_applicant()
    application = make_application(election, applicant, production=["192.0.2.1"], state="approved", staff=staff)
    approved = application.in_force
    draft = service.amend(application, user=applicant, at=NOW)
    service.save_draft(draft, content(production=["192.0.2.3"]), POLICY, at=NOW)
    service.submit(draft, POLICY, user=applicant, at=NOW)

    decisions.revoke(application, staff=staff, at=NOW)
    assert approved.state is VersionState.REJECTED and application.pending is draft
    assert db.session.get(AddressQuota, (applicant.organisation_id, election.id)).production_count == 1

    decisions.approve(draft, staff=staff, at=NOW)
    assert application.in_force is draft and approved.state is VersionState.REJECTED
