"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand, next to the views it describes; a test checks that every rule of the ``api``
blueprint is described here and that nothing here is missing from the URL map, and validates
the document and real answers against it.
"""

from __future__ import annotations

from typing import Any

from portal.api.errors import MAX_BODY_BYTES
from portal.registration.content import MAX_NOTE_LENGTH
from portal.registration.models import MAX_PRODUCTION_ADDRESSES, MAX_TEST_ADDRESSES, VersionState

API_VERSION = "1.0.0"

ERROR_CODES = {
    "unauthorized": "401: no valid session or token (an unknown, expired or revoked token)",
    "forbidden": "403: signed in, but not allowed (an applicant on a staff endpoint; staff without the second factor)",
    "insufficient_scope": "403: the token's scopes do not allow this (a token does no more than its scopes allow)",
    "four_eyes_required": "403: the caller recorded this version's data-box submission; another reviewer approves",
    "csrf_failed": "403: a browser session sent an unsafe request without a valid X-CSRFToken header",
    "not_found": "404: no such object, or it belongs to another organisation",
    "method_not_allowed": "405",
    "malformed_json": "400: the body is not a JSON object, or a field has the wrong type or is unknown",
    "validation_failed": "422: the values are refused; `fields` has the service's code for each field",
    "deadline_passed": "409: the election no longer accepts applications",
    "quota_exceeded": "409: the organisation would claim too many addresses in the election",
    "illegal_transition": "409: not possible in the application's current state",
    "stale_version": "409: the version acted on was replaced by another change meanwhile; reload and decide again",
    "conflict": "409: the request collided with a change made at the same moment; reload and try again",
    "signature_required": "409: the election requires a signed submission (not possible through the API)",
    "conflicts_not_acknowledged": "409: another organisation claims an address; approve with acknowledge_conflicts",
    "payload_too_large": f"413: the body is larger than {MAX_BODY_BYTES} bytes",
    "rate_limited": "429: too many requests; wait for Retry-After seconds",
    "internal_error": "500: a fault on our side (logged)",
    "database_busy": "503: the data is busy with another change; try again after Retry-After seconds",
}

DESCRIPTION = f"""\
The media access portal of the Czech Statistical Office: elections, applications for access to the
election-results XML server, and the office's decisions.

**Authentication.** Either a personal API token, `Authorization: Bearer csu_...` (create one on the
page `/account/tokens`; the secret is shown once), or the portal's browser session. With a token the
session is ignored; an unknown, expired or revoked token is refused with 401 even on public endpoints.
Unsafe requests (POST, PUT) made with a browser session must send the session's CSRF token in the
`X-CSRFToken` header; token requests need no CSRF token.

**Staff.** Reviewers and administrators decide on applications. Staff count as verified when their
session passed the second factor, or when they call with a token: staff can create a token only in a
session that passed the second factor, so the second factor was proven when the token was minted.

**Isolation.** An applicant sees only its organisation's applications; another organisation's
application answers 404, as if it did not exist. The office's internal reason for a rejection is
never part of what an applicant can read.

**Format.** JSON in UTF-8 both ways; request bodies are objects of at most {MAX_BODY_BYTES} bytes,
strictly typed (unknown fields are refused). Instants are ISO 8601 in UTC with `Z`; days
(`application_deadline`) are ISO dates meaning the Prague calendar day. Addresses are returned in
canonical form.

**Rate limit.** Per token, per signed-in user, or per client address (600 requests a minute unless
the operator configures otherwise); beyond it, 429 with `Retry-After`.

**Errors.** Always `{{"error": {{"code": ..., "message": ..., "fields": {{...}}}}}}`, the message in the
caller's language. Codes: {", ".join(f"`{code}`" for code in ERROR_CODES)}.
"""


def _ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(schema)}
    if headers:
        response["headers"] = headers
    return response


def _conflict(*codes: str) -> dict[str, Any]:
    return {
        "description": "Refused by the application rules: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": _json(_ref("Error")),
    }


NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
INSTANT = {"type": "string", "format": "date-time"}

#: Who may call: a token, or a session (with the CSRF header for unsafe methods).
READ_SECURITY = [{"bearerAuth": []}, {"sessionCookie": []}]
WRITE_SECURITY = [{"bearerAuth": []}, {"sessionCookie": [], "csrfHeader": []}]
#: Public: anonymous callers are welcome; a token, if sent, must be valid.
PUBLIC_SECURITY: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}, {"sessionCookie": []}]


def _common_errors(*statuses: str) -> dict[str, Any]:
    return {status: _ref(RESPONSE_NAMES[status], "responses") for status in statuses}


RESPONSE_NAMES = {
    "400": "MalformedJson",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "413": "PayloadTooLarge",
    "422": "ValidationFailed",
    "429": "RateLimited",
}

SCHEMAS: dict[str, Any] = {
    "FirewallReport": {
        "type": "object",
        "additionalProperties": False,
        "required": ["host", "status"],
        "properties": {
            "host": {"type": "string", "maxLength": 253, "description": "The agent's host name."},
            "status": {"type": "string", "enum": ["applied", "unchanged", "refused", "failed", "unreachable"]},
            "version": {"type": ["integer", "null"], "minimum": 1, "description": "The version in force."},
            "phase": {"type": ["string", "null"], "enum": ["registration", "testing", "live", "closed", None]},
            "applied_at": {"type": ["string", "null"], "format": "date-time"},
            "entries": {"type": ["integer", "null"], "minimum": 0},
            "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "detail": {"type": "string", "maxLength": 500, "description": "Reason code and message, if any."},
        },
    },
    "FirewallReportAccepted": {
        "type": "object",
        "required": ["host", "version", "status"],
        "properties": {
            "host": {"type": "string"},
            "version": {"type": ["integer", "null"]},
            "status": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "Stable: match on it. "
                        + "; ".join(f"`{code}` {meaning}" for code, meaning in ERROR_CODES.items()),
                    },
                    "message": {"type": "string", "description": "For people, in the caller's language."},
                    "fields": {
                        "type": "object",
                        "description": "Per field: what is wrong with it.",
                        "additionalProperties": _ref("FieldError"),
                    },
                },
            }
        },
    },
    "FieldError": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {
                "type": "string",
                "description": "Shape (400): `missing`, `unknown_field`, `not_a_string`, `not_a_boolean`, "
                "`not_a_list_of_strings`, `invalid_text`. Values (422), the registration service's codes: "
                "`required`, `invalid_email`, `invalid_phone`, `too_many`, `too_long`, `production_and_test`, "
                "`address_<reason>` (for example `address_private`, `address_duplicate`); and "
                "`unknown_election`, `invalid_choice`, `not_a_positive_integer`.",
            },
            "message": {"type": "string"},
        },
    },
    "Round": {
        "type": "object",
        "required": ["number", "voting_starts_at", "voting_ends_at", "processing_starts_at", "live_ends_at"],
        "properties": {
            "number": {"type": "integer", "minimum": 1, "description": "2 is the run-off."},
            "voting_starts_at": INSTANT,
            "voting_ends_at": INSTANT,
            "processing_starts_at": {**INSTANT, "description": "Test addresses are cut from here (live phase)."},
            "live_ends_at": INSTANT,
        },
    },
    "Election": {
        "type": "object",
        "required": [
            "code",
            "name",
            "kind",
            "status",
            "application_deadline",
            "applications_close_at",
            "phase",
            "has_media_server",
            "signature_required",
            "rounds",
        ],
        "properties": {
            "code": {"type": "string", "examples": ["prez2028"]},
            "name": {
                "type": "object",
                "required": ["cs", "en"],
                "properties": {"cs": {"type": "string"}, "en": {"type": "string"}},
            },
            "kind": {"type": "string", "enum": ["president", "chamber", "senate", "regional", "municipal", "european"]},
            "status": {"type": "string", "enum": ["tentative", "announced", "cancelled"]},
            "application_deadline": {
                "type": "string",
                "format": "date",
                "description": "The last day (Prague calendar) on which applications are accepted.",
            },
            "applications_close_at": {
                **INSTANT,
                "description": "The instant applications close: the end of the deadline day in Prague, in UTC.",
            },
            "phase": {
                "type": "string",
                "enum": ["registration", "testing", "live", "closed"],
                "description": "The access phase now.",
            },
            "has_media_server": {"type": "boolean"},
            "signature_required": {"type": "boolean"},
            "rounds": {"type": "array", "items": _ref("Round")},
        },
    },
    "ElectionList": {
        "type": "object",
        "required": ["elections"],
        "properties": {"elections": {"type": "array", "items": _ref("Election")}},
    },
    "ApplicationVersion": {
        "type": "object",
        "required": [
            "number",
            "state",
            "contact_email",
            "contact_phone",
            "production",
            "test",
            "accept_terms",
            "terms_version",
            "note",
            "created_at",
            "submitted_at",
            "content_sha256",
            "decided_at",
        ],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "state": {"type": "string", "enum": [s.value for s in VersionState]},
            "contact_email": {"type": "string"},
            "contact_phone": {"type": "string", "description": "E.164, for example +420274051111."},
            "production": {"type": "array", "items": {"type": "string"}, "description": "Canonical addresses."},
            "test": {"type": "array", "items": {"type": "string"}},
            "accept_terms": {"type": "boolean"},
            "terms_version": {"type": ["string", "null"]},
            "note": {"type": "string"},
            "created_at": INSTANT,
            "submitted_at": NULLABLE_INSTANT,
            "content_sha256": {"type": ["string", "null"], "description": "Quoted in the receipt."},
            "decided_at": NULLABLE_INSTANT,
            "internal_reason": {
                "type": "string",
                "description": "Staff only: why the office refused. Never present for applicants.",
            },
        },
    },
    "Conflict": {
        "type": "object",
        "required": ["address", "organisation", "application"],
        "properties": {
            "address": {"type": "string"},
            "organisation": {"type": "string"},
            "application": {"type": "string", "description": "The other application's reference."},
        },
    },
    "Application": {
        "type": "object",
        "required": [
            "id",
            "reference",
            "election",
            "organisation",
            "created_at",
            "state",
            "version",
            "in_force_version",
            "versions",
        ],
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string", "examples": ["prez2028-0007"]},
            "election": {"type": "string", "description": "The election's code."},
            "organisation": {
                "type": "object",
                "required": ["id", "name", "ico"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "ico": {"type": "string"}},
            },
            "created_at": INSTANT,
            "state": {
                "type": "string",
                "enum": [s.value for s in VersionState],
                "description": "The state of the latest version.",
            },
            "version": {"type": "integer", "description": "The latest version's number."},
            "in_force_version": {
                "type": ["integer", "null"],
                "description": "The approved version whose addresses are on the allowlist.",
            },
            "versions": {"type": "array", "items": _ref("ApplicationVersion"), "description": "Oldest first."},
            "conflicts": {
                "type": "array",
                "items": _ref("Conflict"),
                "description": "Staff only (single application and decisions): addresses of the latest version "
                "that another organisation claims.",
            },
        },
    },
    "ApplicationList": {
        "type": "object",
        "required": ["applications", "page", "per_page", "total"],
        "properties": {
            "applications": {"type": "array", "items": _ref("Application")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    "ApplicationContent": {
        "type": "object",
        "additionalProperties": False,
        "description": "A draft's content. Fields left out are empty. Values are checked by the registration "
        "rules: a draft may be incomplete, but its addresses must be acceptable.",
        "properties": {
            "contact_email": {"type": "string"},
            "contact_phone": {"type": "string", "description": "Czech numbers may omit +420."},
            "production": {
                "type": "array",
                "items": {"type": "string"},
                "description": f"At most {MAX_PRODUCTION_ADDRESSES} public addresses (IPv4 or IPv6).",
            },
            "test": {
                "type": "array",
                "items": {"type": "string"},
                "description": f"At most {MAX_TEST_ADDRESSES}; cut while results are processed.",
            },
            "accept_terms": {"type": "boolean", "description": "Needed to submit."},
            "note": {"type": "string", "description": f"At most {MAX_NOTE_LENGTH} characters."},
        },
    },
    "ApplicationCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["election"],
        "description": "Starts an application, saves its content and, with `submit`, submits it: all or nothing.",
        "properties": {
            "election": {"type": "string", "description": "The election's code."},
            "contact_email": {"type": "string"},
            "contact_phone": {"type": "string"},
            "production": {"type": "array", "items": {"type": "string"}},
            "test": {"type": "array", "items": {"type": "string"}},
            "accept_terms": {"type": "boolean"},
            "note": {"type": "string"},
            "submit": {"type": "boolean", "default": False},
        },
    },
    "Empty": {"type": "object", "additionalProperties": False, "description": "No fields; the body may be empty."},
    "Approve": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "acknowledge_conflicts": {
                "type": "boolean",
                "default": False,
                "description": "Approve although another organisation claims one of the addresses.",
            },
            "expected_version": {
                "type": "integer",
                "minimum": 1,
                "description": "The number of the latest version the caller decided on. If another change "
                "replaced it meanwhile: `stale_version` (409), and nothing changes.",
            },
        },
    },
    "Reject": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "internal_reason": {
                "type": "string",
                "maxLength": 2000,
                "description": "Optional and internal to the office: never shown to the outlet.",
            },
            "expected_version": {
                "type": "integer",
                "minimum": 1,
                "description": "The number of the version the caller decided on: the latest one for a "
                "rejection, the one in force for a revocation. If another change replaced it meanwhile: "
                "`stale_version` (409), and nothing changes.",
            },
        },
    },
}

RESPONSES: dict[str, Any] = {
    "MalformedJson": {
        "description": "`malformed_json`: not a JSON object, or fields of the wrong type or unknown "
        "(each named in `fields`).",
        "content": _json(_ref("Error")),
    },
    "Unauthorized": {
        "description": "`unauthorized`: sign in or send a valid token.",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        "content": _json(_ref("Error")),
    },
    "Forbidden": {
        "description": "`forbidden` (not allowed by the access policy; staff without the second factor), "
        "`insufficient_scope` (the token's scopes), `four_eyes_required` or `csrf_failed`.",
        "content": _json(_ref("Error")),
    },
    "NotFound": {"description": "`not_found`.", "content": _json(_ref("Error"))},
    "PayloadTooLarge": {
        "description": f"`payload_too_large`: the body is over {MAX_BODY_BYTES} bytes.",
        "content": _json(_ref("Error")),
    },
    "ValidationFailed": {
        "description": "`validation_failed`: per-field codes in `fields`.",
        "content": _json(_ref("Error")),
    },
    "RateLimited": {
        "description": "`rate_limited`.",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
        "content": _json(_ref("Error")),
    },
}

PARAMETERS: dict[str, Any] = {
    "ApplicationId": {"name": "application_id", "in": "path", "required": True, "schema": {"type": "integer"}},
    "ElectionCode": {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
}


def _body(schema: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": _json(_ref(schema))}


def _application_action(
    summary: str, description: str, *conflicts: str, body: str = "Empty", unprocessable: bool = False
) -> dict[str, Any]:
    statuses = ("400", "401", "403", "404", "413", *(("422",) if unprocessable else ()), "429")
    return {
        "summary": summary,
        "description": description,
        "security": WRITE_SECURITY,
        "parameters": [_ref("ApplicationId", "parameters")],
        "requestBody": _body(body, required=False),
        "responses": {
            "200": _ok("The application after the change.", _ref("Application")),
            **_common_errors(*statuses),
            "409": _conflict(*conflicts),
        },
    }


PATHS: dict[str, Any] = {
    "/elections": {
        "get": {
            "operationId": "listElections",
            "summary": "All elections, newest deadline first",
            "security": PUBLIC_SECURITY,
            "responses": {"200": _ok("The elections.", _ref("ElectionList")), **_common_errors("401", "429")},
        }
    },
    "/elections/{code}": {
        "get": {
            "operationId": "getElection",
            "summary": "One election",
            "security": PUBLIC_SECURITY,
            "parameters": [_ref("ElectionCode", "parameters")],
            "responses": {"200": _ok("The election.", _ref("Election")), **_common_errors("401", "404", "429")},
        }
    },
    "/elections/{code}/allowlist": {
        "get": {
            "operationId": "getAllowlist",
            "summary": "The election's signed allowlist snapshot (schema csu-allowlist/1)",
            "description": "For ops and admin staff (firewall agents, feed proxies). Send If-None-Match with the "
            "last ETag: 304 while the snapshot is unchanged. The signature is Ed25519 over the canonical "
            "JSON without the signature field; verify it with /allowlist/public-key.",
            "security": READ_SECURITY,
            "parameters": [_ref("ElectionCode", "parameters")],
            "responses": {
                "200": _ok("The signed snapshot.", {"type": "object"}),
                "304": {"description": "Unchanged since the ETag sent."},
                **_common_errors("401", "403", "404", "429"),
            },
        }
    },
    "/elections/{code}/allowlist/reports": {
        "post": {
            "operationId": "reportFirewallHost",
            "summary": "A firewall agent reports the allowlist version its host enforces",
            "description": "For ops and admin staff (the agents' tokens). Sent after every apply, refusal or "
            "error, and as a heartbeat; staff see each host's latest report in the portal.",
            "security": WRITE_SECURITY,
            "parameters": [_ref("ElectionCode", "parameters")],
            "requestBody": _body("FirewallReport"),
            "responses": {
                "201": _ok("The report is stored.", _ref("FirewallReportAccepted")),
                **_common_errors("400", "401", "403", "404", "413", "422", "429"),
            },
        }
    },
    "/allowlist/public-key": {
        "get": {
            "operationId": "getAllowlistPublicKey",
            "summary": "The Ed25519 public key that verifies allowlist snapshots (PEM)",
            "security": READ_SECURITY,
            "responses": {
                "200": {"description": "PEM public key.", "content": {"application/x-pem-file": {}}},
                **_common_errors("401", "403", "429"),
            },
        }
    },
    "/applications": {
        "get": {
            "operationId": "listApplications",
            "summary": "Applications the caller may see",
            "description": "An applicant: its organisation's. Verified staff: every organisation's.",
            "security": READ_SECURITY,
            "parameters": [
                {"name": "election", "in": "query", "schema": {"type": "string"}, "description": "Election code."},
                {
                    "name": "state",
                    "in": "query",
                    "schema": {"type": "string", "enum": [s.value for s in VersionState]},
                    "description": "The state of the latest version.",
                },
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                },
            ],
            "responses": {
                "200": _ok("One page of applications, by id.", _ref("ApplicationList")),
                **_common_errors("401", "403", "422", "429"),
            },
        },
        "post": {
            "operationId": "createApplication",
            "summary": "Apply for access in an election",
            "description": "For members of a media organisation. Saves the content as a draft; with `submit` "
            "also submits it. When anything is refused, nothing is created.",
            "security": WRITE_SECURITY,
            "requestBody": _body("ApplicationCreate"),
            "responses": {
                "201": _ok(
                    "The new application.",
                    _ref("Application"),
                    headers={"Location": {"schema": {"type": "string"}, "description": "Its URL."}},
                ),
                **_common_errors("400", "401", "403", "413", "422", "429"),
                "409": _conflict("deadline_passed", "quota_exceeded", "signature_required"),
            },
        },
    },
    "/applications/{application_id}": {
        "get": {
            "operationId": "getApplication",
            "summary": "One application with all its versions",
            "security": READ_SECURITY,
            "parameters": [_ref("ApplicationId", "parameters")],
            "responses": {
                "200": _ok("The application.", _ref("Application")),
                **_common_errors("401", "403", "404", "429"),
            },
        },
        "put": {
            "operationId": "replaceDraft",
            "summary": "Replace the draft's content",
            "description": "Only while the latest version is a draft (`illegal_transition` otherwise) and the "
            "election accepts applications.",
            "security": WRITE_SECURITY,
            "parameters": [_ref("ApplicationId", "parameters")],
            "requestBody": _body("ApplicationContent"),
            "responses": {
                "200": _ok("The application after the change.", _ref("Application")),
                **_common_errors("400", "401", "403", "404", "413", "422", "429"),
                "409": _conflict("illegal_transition", "deadline_passed"),
            },
        },
    },
    "/applications/{application_id}/submit": {
        "post": {
            "operationId": "submitApplication",
            **_application_action(
                "Submit the draft",
                "The draft must be complete (else `validation_failed`, 422), within the deadline and the quota. "
                "Elections that require a signed submission answer `signature_required`.",
                "illegal_transition",
                "deadline_passed",
                "quota_exceeded",
                "signature_required",
                unprocessable=True,
            ),
        }
    },
    "/applications/{application_id}/withdraw": {
        "post": {
            "operationId": "withdrawApplication",
            **_application_action(
                "Withdraw the application",
                "Takes back any draft, pending amendment and the version in force.",
                "illegal_transition",
            ),
        }
    },
    "/applications/{application_id}/amend": {
        "post": {
            "operationId": "amendApplication",
            **_application_action(
                "Start an amendment",
                "A new draft from the version in force, which stays in force until the office decides.",
                "illegal_transition",
                "deadline_passed",
            ),
        }
    },
    "/applications/{application_id}/approve": {
        "post": {
            "operationId": "approveApplication",
            **_application_action(
                "Approve the pending version (reviewers and administrators)",
                "Staff only, verified (session with the second factor, or a token).",
                "illegal_transition",
                "stale_version",
                "conflicts_not_acknowledged",
                "quota_exceeded",
                body="Approve",
            ),
        }
    },
    "/applications/{application_id}/reject": {
        "post": {
            "operationId": "rejectApplication",
            **_application_action(
                "Reject the pending version (reviewers and administrators)",
                "Staff only, verified. The internal reason is never shown to the outlet.",
                "illegal_transition",
                "stale_version",
                body="Reject",
                unprocessable=True,
            ),
        }
    },
    "/applications/{application_id}/revoke": {
        "post": {
            "operationId": "revokeApproval",
            **_application_action(
                "Revoke the approval in force (reviewers and administrators)",
                "Staff only, verified. Any time, election night included: the addresses leave the next allowlist "
                "version. A pending amendment keeps waiting for its own decision. The internal reason is never "
                "shown to the outlet.",
                "illegal_transition",
                "stale_version",
                body="Reject",
                unprocessable=True,
            ),
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": PUBLIC_SECURITY,
            "responses": {"200": _ok("OpenAPI 3.1.", {"type": "object"}), **_common_errors("401", "429")},
        }
    },
}


def document() -> dict[str, Any]:
    """The whole description, as plain JSON data."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Czech Statistical Office: media access portal API",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "security": READ_SECURITY,
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "parameters": PARAMETERS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "csu_ followed by 43 URL-safe characters",
                    "description": "A personal API token from /account/tokens. Its scopes (applications, "
                    "review, allowlist:read, allowlist:report) and its owner's role bound what it may do; "
                    "see docs/permissions.md.",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "portal_session",
                    "description": "The portal's browser session.",
                },
                "csrfHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "With a session, unsafe methods send the session's CSRF token here.",
                },
            },
        },
    }
