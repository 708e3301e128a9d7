"""The table of ``/api/v1``'s operations: what ``openapi.py`` turns into the document's ``paths``.

Each row names its request and response schemas (``portal/api/schemas``), its error statuses, the
service's refusals (409 codes) and who may call. A test holds the table against the URL map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from portal.api.schemas import firewall, requests, responses

#: Who may call. ``read``: a token or a session; ``write``: a token, or a session with the CSRF header;
#: ``public``: anyone, but a token, if sent, must be valid.
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "read": [{"bearerAuth": []}, {"sessionCookie": []}],
    "write": [{"bearerAuth": []}, {"sessionCookie": [], "csrfHeader": []}],
    "public": [{}, {"bearerAuth": []}, {"sessionCookie": []}],
}

#: The statuses of an action on one application, with or without a 422 of the service's field codes.
ACTION_ERRORS = ("400", "401", "403", "404", "413", "429")
ACTION_ERRORS_422 = ("400", "401", "403", "404", "413", "422", "429")


@dataclass(frozen=True)
class Answer:
    """The successful answer: a schema (a model, or raw JSON Schema) in ``media_type``."""

    description: str
    schema: type[BaseModel] | dict[str, Any] | None
    status: str = "200"
    media_type: str = "application/json"
    headers: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    operation_id: str
    summary: str
    answer: Answer
    #: Statuses answered with the shared error responses (``components/responses``).
    errors: tuple[str, ...]
    description: str | None = None
    security: str = "read"
    #: Names of ``components/parameters`` (the path's).
    parameters: tuple[str, ...] = ()
    #: The query arguments, as a schema whose fields are the parameters.
    query: type[requests.RequestBody] | None = None
    request: type[requests.RequestBody] | None = None
    request_required: bool = True
    #: The codes of a 409 refusal by the services.
    conflicts: tuple[str, ...] = ()
    #: More answers, by status (such as 304).
    more: dict[str, Any] = field(default_factory=dict)


def _action(
    path: str,
    operation_id: str,
    summary: str,
    description: str,
    *conflicts: str,
    request: type[requests.RequestBody] = requests.Empty,
    unprocessable: bool = False,
) -> Operation:
    """A POST on one application whose answer is the application after the change."""
    return Operation(
        path=f"/applications/{{application_id}}/{path}",
        method="post",
        operation_id=operation_id,
        summary=summary,
        description=description,
        security="write",
        parameters=("ApplicationId",),
        request=request,
        request_required=False,
        answer=Answer("The application after the change.", responses.Application),
        errors=ACTION_ERRORS_422 if unprocessable else ACTION_ERRORS,
        conflicts=conflicts,
    )


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "/elections",
        "get",
        "listElections",
        "All elections, newest deadline first",
        Answer("The elections.", responses.ElectionList),
        ("401", "429"),
        security="public",
    ),
    Operation(
        "/elections/{code}",
        "get",
        "getElection",
        "One election",
        Answer("The election.", responses.Election),
        ("401", "404", "429"),
        security="public",
        parameters=("ElectionCode",),
    ),
    Operation(
        "/elections/{code}/allowlist",
        "get",
        "getAllowlist",
        "The election's signed allowlist snapshot (schema csu-allowlist/1)",
        Answer("The signed snapshot.", {"type": "object"}),
        ("401", "403", "404", "429"),
        description="For ops and admin staff (firewall agents, feed proxies). Send If-None-Match with the last "
        "ETag: 304 while the snapshot is unchanged. The signature is Ed25519 over the canonical JSON without "
        "the signature field; verify it with /allowlist/public-key.",
        parameters=("ElectionCode",),
        more={"304": {"description": "Unchanged since the ETag sent."}},
    ),
    Operation(
        "/elections/{code}/allowlist/reports",
        "post",
        "reportFirewallHost",
        "A firewall agent reports the allowlist version its host enforces",
        Answer("The report is stored.", firewall.FirewallReportAccepted, status="201"),
        ("400", "401", "403", "404", "413", "422", "429"),
        description="For ops and admin staff (the agents' tokens). Sent after every apply, refusal or error, "
        "and as a heartbeat; staff see each host's latest report in the portal.",
        security="write",
        parameters=("ElectionCode",),
        request=firewall.FirewallReport,
    ),
    Operation(
        "/allowlist/public-key",
        "get",
        "getAllowlistPublicKey",
        "The Ed25519 public key that verifies allowlist snapshots (PEM)",
        Answer("PEM public key.", None, media_type="application/x-pem-file"),
        ("401", "403", "429"),
    ),
    Operation(
        "/applications",
        "get",
        "listApplications",
        "Applications the caller may see",
        Answer("One page of applications, by id.", responses.ApplicationList),
        ("401", "403", "422", "429"),
        description="An applicant: its organisation's. Verified staff: every organisation's.",
        query=requests.ApplicationQuery,
    ),
    Operation(
        "/applications",
        "post",
        "createApplication",
        "Apply for access in an election",
        Answer(
            "The new application.",
            responses.Application,
            status="201",
            headers={"Location": {"schema": {"type": "string"}, "description": "Its URL."}},
        ),
        ("400", "401", "403", "413", "422", "429"),
        description="For members of a media organisation. Saves the content as a draft; with `submit` also "
        "submits it. When anything is refused, nothing is created.",
        security="write",
        request=requests.ApplicationCreate,
        conflicts=("deadline_passed", "quota_exceeded", "signature_required"),
    ),
    Operation(
        "/applications/{application_id}",
        "get",
        "getApplication",
        "One application with all its versions",
        Answer("The application.", responses.Application),
        ("401", "403", "404", "429"),
        parameters=("ApplicationId",),
    ),
    Operation(
        "/applications/{application_id}",
        "put",
        "replaceDraft",
        "Replace the draft's content",
        Answer("The application after the change.", responses.Application),
        ("400", "401", "403", "404", "413", "422", "429"),
        description="Only while the latest version is a draft (`illegal_transition` otherwise) and the election "
        "accepts applications.",
        security="write",
        parameters=("ApplicationId",),
        request=requests.ApplicationContent,
        conflicts=("illegal_transition", "deadline_passed"),
    ),
    _action(
        "submit",
        "submitApplication",
        "Submit the draft",
        "The draft must be complete (else `validation_failed`, 422), within the deadline and the quota. "
        "Elections that require a signed submission answer `signature_required`.",
        "illegal_transition",
        "deadline_passed",
        "quota_exceeded",
        "signature_required",
        unprocessable=True,
    ),
    _action(
        "withdraw",
        "withdrawApplication",
        "Withdraw the application",
        "Takes back any draft, pending amendment and the version in force.",
        "illegal_transition",
    ),
    _action(
        "amend",
        "amendApplication",
        "Start an amendment",
        "A new draft from the version in force, which stays in force until the office decides.",
        "illegal_transition",
        "deadline_passed",
    ),
    _action(
        "approve",
        "approveApplication",
        "Approve the pending version (reviewers and administrators)",
        "Staff only, verified (session with the second factor, or a token).",
        "illegal_transition",
        "stale_version",
        "conflicts_not_acknowledged",
        "quota_exceeded",
        request=requests.Approve,
    ),
    _action(
        "reject",
        "rejectApplication",
        "Reject the pending version (reviewers and administrators)",
        "Staff only, verified. The internal reason is never shown to the outlet.",
        "illegal_transition",
        "stale_version",
        request=requests.Reject,
        unprocessable=True,
    ),
    _action(
        "revoke",
        "revokeApproval",
        "Revoke the approval in force (reviewers and administrators)",
        "Staff only, verified. Any time, election night included: the addresses leave the next allowlist "
        "version. A pending amendment keeps waiting for its own decision. The internal reason is never shown "
        "to the outlet.",
        "illegal_transition",
        "stale_version",
        request=requests.Reject,
        unprocessable=True,
    ),
    Operation(
        "/openapi.json",
        "get",
        "getOpenApi",
        "This document",
        Answer("OpenAPI 3.1.", {"type": "object"}),
        ("401", "429"),
        security="public",
    ),
)
