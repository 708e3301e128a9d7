"""Who may do what: the one access policy of the portal.

A declarative table of object kinds by actions by who is asking. Every HTML view and API endpoint is
listed in ``ROUTES`` with the kind and action it performs; the request guard (``portal.accounts.guard``)
checks the caller's role against ``RULES`` before the view runs, and the loaders check the caller's
relation to the object (a member of the owning organisation, or staff) with the same table. Nothing
else decides permission. The permission matrix (``docs/permissions.md`` and ``/staff/permissions``) is
rendered from these tables, and ``tests/accounts/test_policy_matrix.py`` holds every route against them.

Pure Python, no Flask: the table can be read, rendered and tested on its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from portal.accounts.models import Role


class Kind(enum.StrEnum):
    """What is acted on."""

    SITE = "site"  #: public pages, language, health
    ACCOUNT = "account"  #: one's own account: sign-in, profile, second factor, sign-out
    API_TOKEN = "api_token"  # noqa: S105 - a name, not a secret
    ORGANISATION = "organisation"
    APPLICATION = "application"  #: an application and its versions
    SIGNED_UPLOAD = "signed_upload"  #: the outlet's signed PDF of an application version
    DATABOX_RECORD = "databox_record"  #: a submission received in the office's data box
    PERMIT_REQUEST = "permit_request"  #: a filming permit request and its persons
    MEETING = "meeting"  #: the technical meeting of an election
    MEETING_REPLY = "meeting_reply"  #: an outlet's reply to the meeting invitation
    ELECTION = "election"
    COLLECTION_POINT = "collection_point"
    ADDRESS_SETTINGS = "address_settings"
    AUDIT_LOG = "audit_log"
    ALLOWLIST = "allowlist"  #: the signed snapshot and its public key
    FIREWALL_HOST = "firewall_host"  #: what each firewall host reports it enforces
    NIGHT_BOARD = "night_board"
    POLICY = "policy"  #: this table, rendered for admins


class Action(enum.StrEnum):
    VIEW = "view"
    REVIEW = "review"  #: staff reading the review pages of every organisation
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"
    RECORD_DATABOX = "record_databox"
    DECIDE_PERMIT = "decide_permit"
    EXPORT = "export"
    MANAGE = "manage"
    REPORT = "report"


class Grantee(enum.StrEnum):
    """Who a rule admits: everyone, anyone signed in, members of the owning organisation, or a staff role."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    MEMBER = "member"  #: a member of the organisation that owns the object (applicants only)
    REVIEWER = "reviewer"
    ADMIN = "admin"
    OPS = "ops"


class Scope(enum.StrEnum):
    """What an API token may be used for, chosen when it is made."""

    APPLICATIONS = "applications"  #: the outlet's own applications
    REVIEW = "review"  #: reading applications and deciding on them
    ALLOWLIST_READ = "allowlist:read"  #: the signed snapshot and its public key
    ALLOWLIST_REPORT = "allowlist:report"  #: a firewall host's report of what it enforces


#: The scopes a token of each role may carry (its owner's role bounds them).
SCOPES_BY_ROLE: Mapping[Role, tuple[Scope, ...]] = {
    Role.APPLICANT: (Scope.APPLICATIONS,),
    Role.REVIEWER: (Scope.REVIEW,),
    Role.ADMIN: (Scope.REVIEW, Scope.ALLOWLIST_READ, Scope.ALLOWLIST_REPORT),
    Role.OPS: (Scope.ALLOWLIST_READ, Scope.ALLOWLIST_REPORT),
}

#: The staff role behind each staff grantee.
STAFF_GRANTEES: Mapping[Role, Grantee] = {
    Role.REVIEWER: Grantee.REVIEWER,
    Role.ADMIN: Grantee.ADMIN,
    Role.OPS: Grantee.OPS,
}

PUBLIC = frozenset({Grantee.PUBLIC})
SIGNED_IN = frozenset({Grantee.SIGNED_IN})
MEMBERS = frozenset({Grantee.MEMBER})
DECIDERS = frozenset({Grantee.REVIEWER, Grantee.ADMIN})
MEMBERS_AND_DECIDERS = MEMBERS | DECIDERS
ADMINS = frozenset({Grantee.ADMIN})
OPERATORS = frozenset({Grantee.OPS, Grantee.ADMIN})
ALL_STAFF = frozenset({Grantee.REVIEWER, Grantee.ADMIN, Grantee.OPS})


@dataclass(frozen=True)
class Rule:
    """Who may perform one action on one kind of object, and the token scope each needs."""

    grantees: frozenset[Grantee]
    #: The scope a token needs when a staff grantee acts (members always need ``applications``).
    staff_scope: Scope | None = None
    #: Kept for the matrix: what the rule means for people.
    note: str = field(default="", compare=False)


RULES: Mapping[tuple[Kind, Action], Rule] = {
    (Kind.SITE, Action.VIEW): Rule(PUBLIC),
    (Kind.ACCOUNT, Action.CREATE): Rule(PUBLIC, note="sign up, confirm, sign in, reset, sign out"),
    (Kind.ACCOUNT, Action.EDIT): Rule(SIGNED_IN, note="one's own profile and second factor"),
    (Kind.API_TOKEN, Action.VIEW): Rule(SIGNED_IN, note="one's own tokens only"),
    (Kind.API_TOKEN, Action.CREATE): Rule(SIGNED_IN, note="scopes bounded by the owner's role"),
    (Kind.API_TOKEN, Action.REVOKE): Rule(SIGNED_IN, note="one's own tokens only"),
    (Kind.ORGANISATION, Action.VIEW): Rule(MEMBERS_AND_DECIDERS),
    (Kind.ORGANISATION, Action.EDIT): Rule(MEMBERS),
    (Kind.ORGANISATION, Action.MANAGE): Rule(DECIDERS, note="the staff list of organisations"),
    (Kind.APPLICATION, Action.VIEW): Rule(MEMBERS_AND_DECIDERS, staff_scope=Scope.REVIEW),
    (Kind.APPLICATION, Action.REVIEW): Rule(DECIDERS, staff_scope=Scope.REVIEW, note="the review queue"),
    (Kind.APPLICATION, Action.CREATE): Rule(MEMBERS),
    (Kind.APPLICATION, Action.EDIT): Rule(MEMBERS),
    (Kind.APPLICATION, Action.SUBMIT): Rule(MEMBERS),
    (Kind.APPLICATION, Action.AMEND): Rule(MEMBERS),
    (Kind.APPLICATION, Action.WITHDRAW): Rule(MEMBERS),
    (Kind.APPLICATION, Action.APPROVE): Rule(DECIDERS, staff_scope=Scope.REVIEW, note="not by whoever recorded it"),
    (Kind.APPLICATION, Action.REJECT): Rule(DECIDERS, staff_scope=Scope.REVIEW),
    (Kind.APPLICATION, Action.REVOKE): Rule(DECIDERS, staff_scope=Scope.REVIEW),
    (Kind.APPLICATION, Action.EXPORT): Rule(DECIDERS, note="approved.csv"),
    (Kind.SIGNED_UPLOAD, Action.CREATE): Rule(MEMBERS),
    (Kind.SIGNED_UPLOAD, Action.VIEW): Rule(DECIDERS),
    (Kind.DATABOX_RECORD, Action.RECORD_DATABOX): Rule(DECIDERS),
    (Kind.PERMIT_REQUEST, Action.VIEW): Rule(MEMBERS_AND_DECIDERS),
    (Kind.PERMIT_REQUEST, Action.EDIT): Rule(MEMBERS, note="the request, its persons, its PDF and upload"),
    (Kind.PERMIT_REQUEST, Action.DECIDE_PERMIT): Rule(DECIDERS),
    (Kind.PERMIT_REQUEST, Action.EXPORT): Rule(DECIDERS, note="door lists"),
    (Kind.PERMIT_REQUEST, Action.MANAGE): Rule(ADMINS, note="the permit deadline"),
    (Kind.MEETING, Action.VIEW): Rule(MEMBERS_AND_DECIDERS),
    (Kind.MEETING, Action.MANAGE): Rule(DECIDERS),
    (Kind.MEETING, Action.EXPORT): Rule(DECIDERS, note="attendees.csv"),
    (Kind.MEETING_REPLY, Action.EDIT): Rule(MEMBERS),
    (Kind.ELECTION, Action.VIEW): Rule(PUBLIC),
    (Kind.ELECTION, Action.MANAGE): Rule(ADMINS),
    (Kind.ELECTION, Action.REPORT): Rule(ALL_STAFF, note="the staff list of elections"),
    (Kind.COLLECTION_POINT, Action.VIEW): Rule(DECIDERS),
    (Kind.COLLECTION_POINT, Action.MANAGE): Rule(ADMINS),
    (Kind.ADDRESS_SETTINGS, Action.MANAGE): Rule(ADMINS),
    (Kind.AUDIT_LOG, Action.VIEW): Rule(DECIDERS),
    (Kind.AUDIT_LOG, Action.EXPORT): Rule(DECIDERS),
    (Kind.ALLOWLIST, Action.VIEW): Rule(OPERATORS, staff_scope=Scope.ALLOWLIST_READ),
    (Kind.FIREWALL_HOST, Action.VIEW): Rule(OPERATORS),
    (Kind.FIREWALL_HOST, Action.REPORT): Rule(OPERATORS, staff_scope=Scope.ALLOWLIST_REPORT),
    (Kind.NIGHT_BOARD, Action.VIEW): Rule(ALL_STAFF),
    (Kind.POLICY, Action.VIEW): Rule(ADMINS),
}

_K, _A = Kind, Action

#: Every route (endpoint name) with what it does. A route missing here is refused (and fails the suite).
ROUTES: Mapping[str, tuple[Kind, Action]] = {
    "static": (_K.SITE, _A.VIEW),
    "site.home": (_K.SITE, _A.VIEW),
    "site.healthz": (_K.SITE, _A.VIEW),
    "site.set_language": (_K.SITE, _A.VIEW),
    "dashboard.start": (_K.SITE, _A.VIEW),  # sends the signed-in to their page, others to sign in
    "dashboard.overview": (_K.ORGANISATION, _A.VIEW),
    "dashboard.work": (_K.ELECTION, _A.REPORT),
    "legal.accessibility": (_K.SITE, _A.VIEW),
    "legal.privacy": (_K.SITE, _A.VIEW),
    "legal.contact": (_K.SITE, _A.VIEW),
    "legal.favicon": (_K.SITE, _A.VIEW),
    "accounts.signup": (_K.ACCOUNT, _A.CREATE),
    "accounts.confirm_email": (_K.ACCOUNT, _A.CREATE),
    "accounts.login": (_K.ACCOUNT, _A.CREATE),
    "accounts.second_factor": (_K.ACCOUNT, _A.CREATE),
    "accounts.logout": (_K.ACCOUNT, _A.CREATE),
    "accounts.request_reset": (_K.ACCOUNT, _A.CREATE),
    "accounts.reset_password": (_K.ACCOUNT, _A.CREATE),
    "accounts.profile": (_K.ACCOUNT, _A.EDIT),
    "accounts.enrol_second_factor": (_K.ACCOUNT, _A.EDIT),
    "accounts.change_password": (_K.ACCOUNT, _A.EDIT),
    "accounts.organisation": (_K.ORGANISATION, _A.VIEW),
    "accounts.edit_organisation": (_K.ORGANISATION, _A.EDIT),
    "accounts.organisations": (_K.ORGANISATION, _A.MANAGE),
    "accounts.permissions": (_K.POLICY, _A.VIEW),
    "api_tokens.index": (_K.API_TOKEN, _A.VIEW),
    "api_tokens.create": (_K.API_TOKEN, _A.CREATE),
    "api_tokens.revoke": (_K.API_TOKEN, _A.REVOKE),
    "registration.index": (_K.ORGANISATION, _A.VIEW),
    "registration.start": (_K.APPLICATION, _A.CREATE),
    "registration.detail": (_K.APPLICATION, _A.VIEW),
    "registration.pdf": (_K.APPLICATION, _A.VIEW),
    "registration.upload_signed": (_K.SIGNED_UPLOAD, _A.CREATE),
    "registration.amend": (_K.APPLICATION, _A.AMEND),
    "registration.withdraw": (_K.APPLICATION, _A.WITHDRAW),
    "access.queue": (_K.APPLICATION, _A.REVIEW),
    "access.detail": (_K.APPLICATION, _A.REVIEW),
    "access.approve": (_K.APPLICATION, _A.APPROVE),
    "access.reject": (_K.APPLICATION, _A.REJECT),
    "access.revoke": (_K.APPLICATION, _A.REVOKE),
    "access.bulk_approve": (_K.APPLICATION, _A.APPROVE),
    "access.export": (_K.APPLICATION, _A.EXPORT),
    "access.document": (_K.SIGNED_UPLOAD, _A.VIEW),
    "access.signature_report": (_K.SIGNED_UPLOAD, _A.VIEW),
    "access.databox": (_K.DATABOX_RECORD, _A.RECORD_DATABOX),
    "access.address_settings": (_K.ADDRESS_SETTINGS, _A.MANAGE),
    "hosts.index": (_K.FIREWALL_HOST, _A.VIEW),
    "hosts.election_hosts": (_K.FIREWALL_HOST, _A.VIEW),
    "audit.index": (_K.AUDIT_LOG, _A.VIEW),
    "audit.export_csv": (_K.AUDIT_LOG, _A.EXPORT),
    "elections.index": (_K.ELECTION, _A.VIEW),
    "elections.detail": (_K.ELECTION, _A.VIEW),
    "elections.admin_list": (_K.ELECTION, _A.REPORT),
    "elections.admin_new": (_K.ELECTION, _A.MANAGE),
    "elections.admin_edit": (_K.ELECTION, _A.MANAGE),
    "filming.index": (_K.PERMIT_REQUEST, _A.VIEW),
    "filming.election_page": (_K.PERMIT_REQUEST, _A.VIEW),
    "filming.request_pdf": (_K.PERMIT_REQUEST, _A.EDIT),
    "filming.upload_signed": (_K.PERMIT_REQUEST, _A.EDIT),
    "filming.permit_pdf": (_K.PERMIT_REQUEST, _A.EDIT),
    "filming.verify": (_K.SITE, _A.VIEW),
    "filming_staff.index": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.points": (_K.COLLECTION_POINT, _A.VIEW),
    "filming_staff.points_csv": (_K.COLLECTION_POINT, _A.VIEW),
    "filming_staff.import_points_view": (_K.COLLECTION_POINT, _A.MANAGE),
    "filming_staff.new_point": (_K.COLLECTION_POINT, _A.MANAGE),
    "filming_staff.edit_point": (_K.COLLECTION_POINT, _A.MANAGE),
    "filming_staff.election_page": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.set_deadline": (_K.PERMIT_REQUEST, _A.MANAGE),
    "filming_staff.roster_pdf_view": (_K.PERMIT_REQUEST, _A.EXPORT),
    "filming_staff.roster_csv_view": (_K.PERMIT_REQUEST, _A.EXPORT),
    "filming_staff.request_page": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.approve": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.reject": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.revoke": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.document": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "filming_staff.permit_pdf": (_K.PERMIT_REQUEST, _A.DECIDE_PERMIT),
    "meetings.index": (_K.MEETING, _A.VIEW),
    "meetings.outlet_page": (_K.MEETING, _A.VIEW),
    "meetings.staff_index": (_K.MEETING, _A.MANAGE),
    "meetings.staff_page": (_K.MEETING, _A.MANAGE),
    "meetings.cancel": (_K.MEETING, _A.MANAGE),
    "meetings.invite": (_K.MEETING, _A.MANAGE),
    "meetings.mail": (_K.MEETING, _A.MANAGE),
    "meetings.attendees_csv": (_K.MEETING, _A.EXPORT),
    "night.index": (_K.NIGHT_BOARD, _A.VIEW),
    "night.board": (_K.NIGHT_BOARD, _A.VIEW),
    "night.board_json": (_K.NIGHT_BOARD, _A.VIEW),
    "api.openapi_document": (_K.SITE, _A.VIEW),
    "api.elections": (_K.ELECTION, _A.VIEW),
    "api.election": (_K.ELECTION, _A.VIEW),
    "api.election_allowlist": (_K.ALLOWLIST, _A.VIEW),
    "api.allowlist_public_key": (_K.ALLOWLIST, _A.VIEW),
    "api.allowlist_report": (_K.FIREWALL_HOST, _A.REPORT),
    "api.applications": (_K.APPLICATION, _A.VIEW),
    "api.create_application": (_K.APPLICATION, _A.CREATE),
    "api.application": (_K.APPLICATION, _A.VIEW),
    "api.replace_draft": (_K.APPLICATION, _A.EDIT),
    "api.submit": (_K.APPLICATION, _A.SUBMIT),
    "api.withdraw": (_K.APPLICATION, _A.WITHDRAW),
    "api.amend": (_K.APPLICATION, _A.AMEND),
    "api.approve": (_K.APPLICATION, _A.APPROVE),
    "api.reject": (_K.APPLICATION, _A.REJECT),
    "api.revoke": (_K.APPLICATION, _A.REVOKE),
}

#: Where one route does different things by method: the POST of a page that shows on GET.
ROUTES_BY_METHOD: Mapping[tuple[str, str], tuple[Kind, Action]] = {
    ("registration.detail", "POST"): (_K.APPLICATION, _A.EDIT),
    ("filming.election_page", "POST"): (_K.PERMIT_REQUEST, _A.EDIT),
    ("meetings.outlet_page", "POST"): (_K.MEETING_REPLY, _A.EDIT),
}


def route_rule(endpoint: str, method: str) -> tuple[Kind, Action] | None:
    """The (kind, action) a request to ``endpoint`` with ``method`` performs; None: not in the table."""
    if method == "HEAD":
        method = "GET"
    return ROUTES_BY_METHOD.get((endpoint, method)) or ROUTES.get(endpoint)


@dataclass(frozen=True)
class Subject:
    """Who is asking, as the policy sees them.

    ``staff_verified``: a staff member who passed the second factor (in this session, or when minting
    the token in use); unverified staff hold no staff grant. ``scopes``: the token's scopes, or None
    for a browser session (which is bounded by the role alone).
    """

    role: Role | None
    organisation_id: int | None = None
    staff_verified: bool = False
    scopes: frozenset[Scope] | None = None

    @property
    def signed_in(self) -> bool:
        return self.role is not None


ANONYMOUS = Subject(role=None)


def rule_for(kind: Kind, action: Action) -> Rule:
    """The rule of (kind, action); a pair with no rule is a programming error, refused loudly."""
    return RULES[(kind, action)]


def grantees_of(subject: Subject, owner_organisation_id: int | None) -> frozenset[Grantee]:
    """What the subject counts as: always public; signed in; a member of the owner; its verified staff role."""
    held = {Grantee.PUBLIC}
    if subject.role is None:
        return frozenset(held)
    held.add(Grantee.SIGNED_IN)
    if (
        subject.role is Role.APPLICANT
        and subject.organisation_id is not None
        and subject.organisation_id == owner_organisation_id
    ):
        held.add(Grantee.MEMBER)
    staff = STAFF_GRANTEES.get(subject.role)
    if staff is not None and subject.staff_verified:
        held.add(staff)
    return frozenset(held)


def _scope_needed(rule: Rule, through: Grantee) -> Scope | None:
    if through is Grantee.MEMBER:
        return Scope.APPLICATIONS
    if through in (Grantee.REVIEWER, Grantee.ADMIN, Grantee.OPS):
        return rule.staff_scope
    return None


def _scope_allows(subject: Subject, rule: Rule, through: Grantee) -> bool:
    if subject.scopes is None:
        return True
    needed = _scope_needed(rule, through)
    if needed is None:
        # Token requests reach only the API; an API rule granted to staff without a scope is not for tokens.
        return through in (Grantee.PUBLIC, Grantee.SIGNED_IN)
    return needed in subject.scopes


def permits(subject: Subject, kind: Kind, action: Action, owner_organisation_id: int | None = None) -> bool:
    """May ``subject`` perform ``action`` on an object of ``kind`` owned by ``owner_organisation_id``?"""
    rule = rule_for(kind, action)
    return any(_scope_allows(subject, rule, g) for g in rule.grantees & grantees_of(subject, owner_organisation_id))


def could_permit(subject: Subject, kind: Kind, action: Action) -> bool:
    """Whether the subject's role could perform the action on *some* object of ``kind``.

    The guard asks this before the view runs; the loader then asks ``permits`` for the object.
    A member grant counts for any applicant with an organisation: which one is the loader's question.
    """
    if subject.role is Role.APPLICANT and subject.organisation_id is not None:
        return permits(subject, kind, action, subject.organisation_id)
    return permits(subject, kind, action, None)


def staff_grant_needs_second_factor(subject: Subject, kind: Kind, action: Action) -> bool:
    """A staff member who has not passed the second factor, asking for something only their role grants."""
    staff = STAFF_GRANTEES.get(subject.role) if subject.role is not None else None
    return staff is not None and not subject.staff_verified and staff in rule_for(kind, action).grantees


def separation_of_duties_breached(*, approver_id: int, recorded_by_id: int | None, enabled: bool) -> bool:
    """Four eyes: whoever recorded a submission on the outlet's behalf may not approve it.

    Staff change nothing else of an outlet's (the table above), so recording a data-box delivery is the
    one act on the outlet's behalf. ``enabled`` is the election's setting (on by default).
    """
    return enabled and recorded_by_id is not None and recorded_by_id == approver_id


def scopes_allowed(role: Role) -> tuple[Scope, ...]:
    return SCOPES_BY_ROLE[role]


def public_route(endpoint: str, method: str = "GET") -> bool:
    """Whether anyone, signed in or not, may use the route."""
    pair = route_rule(endpoint, method)
    return pair is not None and Grantee.PUBLIC in rule_for(*pair).grantees


def staff_only_route(endpoint: str, method: str = "GET") -> bool:
    """Whether only staff roles may use the route."""
    pair = route_rule(endpoint, method)
    return pair is not None and rule_for(*pair).grantees <= ALL_STAFF


def matrix_rows() -> Iterable[tuple[Kind, Action, Rule]]:
    """Every rule, in table order: for the rendered matrix."""
    for (kind, action), rule in RULES.items():
        yield kind, action, rule


def routes_of(kind: Kind, action: Action) -> list[str]:
    """The routes performing (kind, action): endpoint names, with the method where it decides."""
    found = [endpoint for endpoint, pair in ROUTES.items() if pair == (kind, action)]
    found += [
        f"{endpoint} ({method})" for (endpoint, method), pair in ROUTES_BY_METHOD.items() if pair == (kind, action)
    ]
    return sorted(found)


def render_markdown() -> str:
    """The permission matrix as Markdown (``docs/permissions.md`` is this text; a test keeps it so)."""
    columns = list(Grantee)
    lines = [
        "# Permission matrix",
        "",
        "Generated from `portal/accounts/policy.py` (`portal policy matrix > docs/permissions.md`); a test",
        "fails when the two differ. *member*: a member of the organisation that owns the object. Staff",
        "grants hold only after the second factor. API tokens are further bounded by their scopes.",
        "",
        "| object | action | " + " | ".join(c.value for c in columns) + " | token scope (staff) | routes |",
        "| --- | --- | " + " | ".join("---" for _ in columns) + " | --- | --- |",
    ]
    for kind, action, rule in matrix_rows():
        marks = " | ".join("yes" if c in rule.grantees else "" for c in columns)
        scope = rule.staff_scope.value if rule.staff_scope else ""
        routes = ", ".join(f"`{r}`" for r in routes_of(kind, action))
        note = f" ({rule.note})" if rule.note else ""
        lines.append(f"| {kind.value} | {action.value}{note} | {marks} | {scope} | {routes} |")
    lines += [
        "",
        "## Token scopes by role",
        "",
        "| role | scopes a token may carry |",
        "| --- | --- |",
    ]
    for role, scopes in SCOPES_BY_ROLE.items():
        lines.append(f"| {role.value} | {', '.join(s.value for s in scopes)} |")
    return "\n".join(lines) + "\n"
