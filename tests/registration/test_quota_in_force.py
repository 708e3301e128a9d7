"""The quota counts what is in force plus what waits for a decision, so no order of decisions puts
more than 5 production addresses of one organisation on the allowlist."""

from datetime import UTC, datetime

import pytest

from allowlist.addresses import AddressPolicy
from portal.access import service as decisions
from portal.access.allowlist import entries_in_force
from portal.accounts.models import Role
from portal.extensions import db
from portal.registration import service
from portal.registration.content import ApplicationContent
from portal.registration.errors import QuotaExceeded
from portal.registration.models import AddressKind, AddressQuota, VersionState
from portal.registration.quota import claimed_addresses

POLICY = AddressPolicy(allow_documentation=True)
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def content(production: list[str]) -> ApplicationContent:
    return ApplicationContent(
        contact_email="redakce@outlet.example",
        contact_phone="274 051 111",
        production=production,
        test=[],
        accept_terms=True,
    )


def stored_equals_recount(organisation_id: int, election_id: int) -> int:
    """The stored production count, after checking it equals a recount."""
    quota = db.session.get(AddressQuota, (organisation_id, election_id))
    claimed = claimed_addresses(organisation_id, election_id)
    assert (quota.production_count, quota.test_count) == (
        len(claimed[AddressKind.PRODUCTION]),
        len(claimed[AddressKind.TEST]),
    )
    return quota.production_count


def on_the_allowlist(election, organisation_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.address for e in entries_in_force(election) if e.organisation_id == organisation_id}


def test_a_pending_amendment_counts_beside_the_version_in_force(
    app, make_election, make_applicant, make_application, make_staff
):
    """A is approved with 3 addresses and its amendment with 1 is submitted; B with 4 would make 8."""
    staff = make_staff(role=Role.REVIEWER)
    election = make_election(code="prez2099")
    applicant = make_applicant()
    organisation_id = applicant.organisation_id
    a = make_application(
        election, applicant, production=["192.0.2.1", "192.0.2.2", "192.0.2.3"], state="approved", staff=staff
    )
    amendment = service.amend(a, user=applicant, at=NOW)
    service.save_draft(amendment, content(["192.0.2.9"]), POLICY, at=NOW)
    service.submit(amendment, POLICY, user=applicant, at=NOW)
    assert stored_equals_recount(organisation_id, election.id) == 4  # 3 in force + 1 waiting

    b = make_application(election, applicant, production=["198.51.100.1", "198.51.100.2", "198.51.100.3", "192.0.2.4"])
    with pytest.raises(QuotaExceeded) as refused:
        service.submit(b.latest, POLICY, user=applicant, at=NOW)
    assert (refused.value.kind, refused.value.limit, refused.value.claimed) == ("production", 5, 8)
    assert b.latest.state is VersionState.DRAFT

    # Rejecting A's amendment is always possible: what it frees was counted beside the version in force.
    decisions.reject(amendment, staff=staff, at=NOW)
    assert a.in_force is not None and a.in_force.number == 1
    assert stored_equals_recount(organisation_id, election.id) == 3
    assert len(on_the_allowlist(election, organisation_id)) == 3

    # B with 2 fits now (3 + 2), and whatever is decided, the allowlist holds at most 5.
    service.save_draft(b.latest, content(["198.51.100.1", "198.51.100.2"]), POLICY, at=NOW)
    service.submit(b.latest, POLICY, user=applicant, at=NOW)
    decisions.approve(b.latest, staff=staff, at=NOW)
    assert stored_equals_recount(organisation_id, election.id) == 5
    assert len(on_the_allowlist(election, organisation_id)) == 5

    # A new amendment of A that adds an address no longer fits while A's version in force counts.
    again = service.amend(a, user=applicant, at=NOW)
    service.save_draft(again, content(["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"]), POLICY, at=NOW)
    with pytest.raises(QuotaExceeded):
        service.submit(again, POLICY, user=applicant, at=NOW)
    assert stored_equals_recount(organisation_id, election.id) == 5


def test_the_order_of_the_issue_never_puts_7_on_the_allowlist(
    app, make_election, make_applicant, make_application, make_staff
):
    """The sequence that put 7 on the allowlist: B's submission is refused, A's amendment decides alone."""
    staff = make_staff(role=Role.REVIEWER)
    election = make_election(code="prez2099")
    applicant = make_applicant()
    a = make_application(
        election, applicant, production=["192.0.2.1", "192.0.2.2", "192.0.2.3"], state="approved", staff=staff
    )
    amendment = service.amend(a, user=applicant, at=NOW)
    service.save_draft(amendment, content(["192.0.2.9"]), POLICY, at=NOW)
    service.submit(amendment, POLICY, user=applicant, at=NOW)
    b = make_application(election, applicant, production=[f"198.51.100.{i}" for i in (1, 2, 3, 4)])
    with pytest.raises(QuotaExceeded):
        service.submit(b.latest, POLICY, user=applicant, at=NOW)
    decisions.approve(amendment, staff=staff, at=NOW)
    assert on_the_allowlist(election, applicant.organisation_id) == {"192.0.2.9"}
    assert stored_equals_recount(applicant.organisation_id, election.id) == 1
    service.submit(b.latest, POLICY, user=applicant, at=NOW)  # 1 + 4 fits once the amendment replaced 3
    decisions.approve(b.latest, staff=staff, at=NOW)
    assert len(on_the_allowlist(election, applicant.organisation_id)) == 5
    assert stored_equals_recount(applicant.organisation_id, election.id) == 5
