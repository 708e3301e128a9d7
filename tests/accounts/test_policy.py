"""The access policy's table on its own: the rules the office expects, the matrix file, token scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.accounts.models import Role
from portal.accounts.policy import (
    RULES,
    Action,
    Grantee,
    Kind,
    Scope,
    Subject,
    permits,
    render_markdown,
    separation_of_duties_breached,
)

ROOT = Path(__file__).resolve().parents[2]
OWN, OTHER = 1, 2
MEMBER = Subject(Role.APPLICANT, organisation_id=OWN)
REVIEWER = Subject(Role.REVIEWER, staff_verified=True)
ADMIN = Subject(Role.ADMIN, staff_verified=True)
OPS = Subject(Role.OPS, staff_verified=True)

#: What only an outlet's own members may do: write their content.
OUTLET_WRITES = [
    (Kind.ORGANISATION, Action.EDIT),
    (Kind.APPLICATION, Action.CREATE),
    (Kind.APPLICATION, Action.EDIT),
    (Kind.APPLICATION, Action.SUBMIT),
    (Kind.APPLICATION, Action.AMEND),
    (Kind.APPLICATION, Action.WITHDRAW),
    (Kind.SIGNED_UPLOAD, Action.CREATE),
    (Kind.PERMIT_REQUEST, Action.EDIT),
    (Kind.MEETING_REPLY, Action.EDIT),
]


def test_the_matrix_file_is_the_rendered_table():
    assert (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8") == render_markdown(), (
        "run: portal policy matrix > docs/permissions.md"
    )


@pytest.mark.parametrize(("kind", "action"), OUTLET_WRITES)
def test_an_outlets_content_is_written_by_its_own_members_only(kind, action):
    assert permits(MEMBER, kind, action, OWN)
    assert not permits(MEMBER, kind, action, OTHER)
    for staff in (REVIEWER, ADMIN, OPS):
        assert not permits(staff, kind, action, OWN), (staff.role, kind, action)


def test_ops_see_no_personal_data_of_outlets():
    personal = [(k, a) for (k, a) in RULES if a in (Action.VIEW, Action.REVIEW, Action.EXPORT)]
    personal = [(k, a) for (k, a) in personal if k not in (Kind.SITE, Kind.ELECTION, Kind.ALLOWLIST)]
    personal = [(k, a) for (k, a) in personal if k not in (Kind.FIREWALL_HOST, Kind.NIGHT_BOARD, Kind.API_TOKEN)]
    for kind, action in personal:
        assert not permits(OPS, kind, action, OWN), (kind, action)
    assert permits(OPS, Kind.ALLOWLIST, Action.VIEW)
    assert permits(OPS, Kind.FIREWALL_HOST, Action.REPORT)


def test_reviewers_decide_and_admins_may_do_what_reviewers_do():
    for action in (Action.APPROVE, Action.REJECT, Action.REVOKE):
        assert permits(REVIEWER, Kind.APPLICATION, action, OWN)
    assert permits(REVIEWER, Kind.DATABOX_RECORD, Action.RECORD_DATABOX, OWN)
    assert permits(REVIEWER, Kind.PERMIT_REQUEST, Action.DECIDE_PERMIT, OWN)
    assert permits(REVIEWER, Kind.MEETING, Action.MANAGE)
    assert not permits(REVIEWER, Kind.ELECTION, Action.MANAGE)
    reviewer_may = {pair for pair in RULES if Grantee.REVIEWER in RULES[pair].grantees}
    admin_may = {pair for pair in RULES if Grantee.ADMIN in RULES[pair].grantees}
    assert reviewer_may <= admin_may
    assert permits(ADMIN, Kind.ELECTION, Action.MANAGE)


def test_staff_without_the_second_factor_hold_no_staff_grant():
    unverified = Subject(Role.ADMIN, staff_verified=False)
    assert not permits(unverified, Kind.APPLICATION, Action.REVIEW)
    assert not permits(unverified, Kind.ELECTION, Action.MANAGE)
    assert permits(unverified, Kind.ACCOUNT, Action.EDIT)


def test_a_token_does_no_more_than_its_scopes_and_its_owners_role():
    allowlist_only = Subject(Role.OPS, staff_verified=True, scopes=frozenset({Scope.ALLOWLIST_READ}))
    assert permits(allowlist_only, Kind.ALLOWLIST, Action.VIEW)
    assert not permits(allowlist_only, Kind.FIREWALL_HOST, Action.REPORT)
    admin_allowlist = Subject(Role.ADMIN, staff_verified=True, scopes=frozenset({Scope.ALLOWLIST_READ}))
    assert not permits(admin_allowlist, Kind.APPLICATION, Action.APPROVE, OWN)
    assert not permits(admin_allowlist, Kind.APPLICATION, Action.VIEW, OWN)
    # A scope the role does not have grants nothing: an ops token with "review" still cannot decide.
    ops_review = Subject(Role.OPS, staff_verified=True, scopes=frozenset({Scope.REVIEW}))
    assert not permits(ops_review, Kind.APPLICATION, Action.APPROVE, OWN)
    member_token = Subject(Role.APPLICANT, organisation_id=OWN, scopes=frozenset({Scope.APPLICATIONS}))
    assert permits(member_token, Kind.APPLICATION, Action.WITHDRAW, OWN)
    no_scope = Subject(Role.APPLICANT, organisation_id=OWN, scopes=frozenset())
    assert not permits(no_scope, Kind.APPLICATION, Action.VIEW, OWN)


def test_four_eyes():
    assert separation_of_duties_breached(approver_id=7, recorded_by_id=7, enabled=True)
    assert not separation_of_duties_breached(approver_id=7, recorded_by_id=8, enabled=True)
    assert not separation_of_duties_breached(approver_id=7, recorded_by_id=None, enabled=True)
    assert not separation_of_duties_breached(approver_id=7, recorded_by_id=7, enabled=False)
