"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Generated: the bodies' JSON Schemas come from the pydantic models that validate the requests and build
the answers (``portal/api/schemas``); the paths from the table of operations (``operations.py``).
A test checks that every rule of the ``api`` blueprint is described and nothing described is missing
from the URL map, validates the document, and holds real answers against it.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from portal.api.errors import MAX_BODY_BYTES
from portal.api.operations import OPERATIONS, SECURITY, Operation
from portal.api.schemas import firewall, requests, responses
from portal.api.schemas.responses import ERROR_CODES

API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"

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
A decision may carry `expected_version`, the version the reviewer saw; when another change replaced
it meanwhile, the decision is refused with `stale_version`.

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

#: The models whose schemas are components: what callers send, then what they get.
REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    requests.ApplicationContent,
    requests.ApplicationCreate,
    requests.Empty,
    requests.Approve,
    requests.Reject,
    firewall.FirewallReport,
)
RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    responses.Error,
    responses.ElectionList,
    responses.ApplicationList,
    firewall.FirewallReportAccepted,
)

#: Shared error answers: status -> (component name, description, headers).
ERROR_RESPONSES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "400": (
        "MalformedJson",
        "`malformed_json`: not a JSON object, or fields of the wrong type or unknown (each named in `fields`).",
        None,
    ),
    "401": (
        "Unauthorized",
        "`unauthorized`: sign in or send a valid token.",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "403": (
        "Forbidden",
        "`forbidden` (not allowed by the access policy; staff without the second factor), `insufficient_scope` "
        "(the token's scopes), `four_eyes_required` or `csrf_failed`.",
        None,
    ),
    "404": ("NotFound", "`not_found`.", None),
    "413": ("PayloadTooLarge", f"`payload_too_large`: the body is over {MAX_BODY_BYTES} bytes.", None),
    "422": ("ValidationFailed", "`validation_failed`: per-field codes in `fields`.", None),
    "429": (
        "RateLimited",
        "`rate_limited`.",
        {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    ),
}

PARAMETERS: dict[str, Any] = {
    "ApplicationId": {"name": "application_id", "in": "path", "required": True, "schema": {"type": "integer"}},
    "ElectionCode": {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "csu_ followed by 43 URL-safe characters",
        "description": "A personal API token from /account/tokens. Its scopes (applications, review, "
        "allowlist:read, allowlist:report) and its owner's role bound what it may do; see docs/permissions.md.",
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
}


def _ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _untitled(schema: Any) -> Any:
    """The schema without pydantic's generated ``title`` keywords (names are the components' keys)."""
    if isinstance(schema, dict):
        return {
            key: (_untitled_properties(value) if key == "properties" else _untitled(value))
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    return schema


def _untitled_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """Property names are kept as they are, even one called ``title``."""
    return {name: _untitled(value) for name, value in properties.items()}


def component_schemas() -> dict[str, Any]:
    """Every model's JSON Schema, and those of the models they contain, by name."""
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in REQUEST_MODELS]
    modes += [(m, "serialization") for m in RESPONSE_MODELS]
    _keys, top = models_json_schema(modes, ref_template=REF)
    schemas: dict[str, Any] = _untitled(top["$defs"])
    # Enumerations are written inline (``enum_schema``); pydantic still lists their unused definitions.
    used = {name for name in schemas if _referenced(name, schemas)}
    return {name: schemas[name] for name in sorted(schemas) if name in used}


def _referenced(name: str, schemas: dict[str, Any]) -> bool:
    """Whether ``name`` is one of the top models or the schema of another refers to it."""
    if name in {model.__name__ for model in (*REQUEST_MODELS, *RESPONSE_MODELS)}:
        return True
    ref = json.dumps(REF.format(model=name))
    return any(ref in json.dumps(schema) for other, schema in schemas.items() if other != name)


def _schema(source: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    return source if isinstance(source, dict) else _ref(source.__name__)


def _success(operation: Operation) -> dict[str, Any]:
    answer = operation.answer
    content: dict[str, Any] = {answer.media_type: {}}
    if answer.schema is not None:
        content[answer.media_type] = {"schema": _schema(answer.schema)}
    body: dict[str, Any] = {"description": answer.description, "content": content}
    if answer.headers:
        body["headers"] = answer.headers
    return body


def _conflict(codes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "description": "Refused by the application rules: " + ", ".join(f"`{c}`" for c in codes) + ".",
        "content": _json(_ref("Error")),
    }


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as parameters: the field's schema, its description on the parameter."""
    parameters = []
    for name, schema in _untitled(model.model_json_schema())["properties"].items():
        parameter: dict[str, Any] = {"name": name, "in": "query"}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        if schema.get("default", 0) is None:
            del schema["default"]
        parameters.append({**parameter, "schema": schema})
    return parameters


def path_item(operation: Operation) -> dict[str, Any]:
    """One operation of the document, from its row in the table."""
    item: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary}
    if operation.description:
        item["description"] = operation.description
    item["security"] = SECURITY[operation.security]
    parameters = [_ref(name, "parameters") for name in operation.parameters]
    if operation.query is not None:
        parameters += query_parameters(operation.query)
    if parameters:
        item["parameters"] = parameters
    if operation.request is not None:
        item["requestBody"] = {
            "required": operation.request_required,
            "content": _json(_ref(operation.request.__name__)),
        }
    responses_: dict[str, Any] = {operation.answer.status: _success(operation), **operation.more}
    responses_.update({status: _ref(ERROR_RESPONSES[status][0], "responses") for status in operation.errors})
    if operation.conflicts:
        responses_["409"] = _conflict(operation.conflicts)
    item["responses"] = responses_
    return item


def _error_responses() -> dict[str, Any]:
    shared: dict[str, Any] = {}
    for name, description, headers in ERROR_RESPONSES.values():
        shared[name] = {"description": description, "content": _json(_ref("Error"))}
        if headers:
            shared[name]["headers"] = headers
    return shared


@cache
def _document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = path_item(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Czech Statistical Office: media access portal API",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "security": SECURITY["read"],
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "responses": _error_responses(),
            "parameters": PARAMETERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document() -> dict[str, Any]:
    """The whole description, as plain JSON data (built once per process; callers get their own copy)."""
    return copy.deepcopy(_document())
