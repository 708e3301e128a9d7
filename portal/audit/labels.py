"""The staff's words for the audit log's action codes and subject types."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Action code -> what happened. A code missing here is shown as it is recorded.
ACTION_LABELS = {
    "application.created": _l("Application started"),
    "application.submit": _l("Application submitted"),
    "application.approve": _l("Application approved"),
    "application.reject": _l("Application rejected"),
    "application.withdraw": _l("Application withdrawn by the outlet"),
    "application.revoke": _l("Approval revoked by the office"),
    "application.supersede": _l("Approved version replaced by a newer one"),
    "application.amendment_started": _l("Change of the application started"),
    "application.signed_upload_refused": _l("Signed application refused"),
    "application.deadline_reminder_sent": _l("Deadline reminder sent"),
    "application.test_cut_notice_sent": _l("Notice of the test-address cut sent"),
    "permit_request.created": _l("Permit request started"),
    "permit_request.submit": _l("Permit request submitted"),
    "permit_request.signed_upload_refused": _l("Signed permit request refused"),
    "permit.approve": _l("Filming permit issued"),
    "permit.reject": _l("Filming permit refused"),
    "permit.revoke": _l("Filming permit revoked"),
    "filming.deadline_set": _l("Deadline for permit requests set"),
    "collection_point.created": _l("Collection point added"),
    "collection_point.updated": _l("Collection point changed"),
    "meeting.scheduled": _l("Technical meeting scheduled"),
    "meeting.updated": _l("Technical meeting changed"),
    "meeting.cancelled": _l("Technical meeting cancelled"),
    "meeting.invited": _l("Meeting invitations sent"),
    "meeting.replied": _l("Outlet replied to the meeting invitation"),
    "meeting.outlets_mailed": _l("Message sent to the registered outlets"),
    "election.created": _l("Election created"),
    "election.updated": _l("Election changed"),
    "organisation.registered": _l("Organisation registered"),
    "organisation.updated": _l("Organisation changed"),
    "user.staff_created": _l("Staff account created"),
    "user.email_confirmed": _l("E-mail address confirmed"),
    "user.password_changed": _l("Password changed"),
    "user.second_factor_enrolled": _l("Second factor set up"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "settings.addresses_updated": _l("Address rules changed"),
    "firewall.applied": _l("Firewall rules applied"),
}

#: Subject type (a table name) -> what it is.
SUBJECT_LABELS = {
    "applications": _l("Application"),
    "permit_requests": _l("Permit request"),
    "permit_persons": _l("Filming permit"),
    "collection_points": _l("Collection point"),
    "technical_meetings": _l("Technical meeting"),
    "elections": _l("Election"),
    "organisations": _l("Organisation"),
    "users": _l("User"),
    "api_tokens": _l("API token"),
    "address_settings": _l("Address rules"),
    "firewall_hosts": _l("Firewall host"),
    "filming_deadlines": _l("Filming deadline"),
}

#: Families of actions, offered as "all of ..." in the filter.
ACTION_GROUPS = {
    "application.": _l("Applications (all)"),
    "permit_request.": _l("Permit requests (all)"),
    "permit.": _l("Filming permits (all)"),
    "meeting.": _l("Technical meetings (all)"),
    "election.": _l("Elections (all)"),
    "organisation.": _l("Organisations (all)"),
    "user.": _l("Users (all)"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def subject_label(code: str) -> str:
    label = SUBJECT_LABELS.get(code)
    return str(label) if label is not None else code
