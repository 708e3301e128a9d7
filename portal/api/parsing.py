"""Reading a JSON request body into its schema: bounded, strictly typed, every wrong field named at once.

The schemas (``portal/api/schemas``) say what is allowed; this module reads the body and turns
pydantic's errors into the API's field codes: a wrong shape is 400 ``malformed_json``; a value over
one of the API's own bounds (``too_long``) is 422 ``validation_failed``, as the services' refusals are.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from portal.api.errors import ApiError, field_problem
from portal.api.schemas.requests import RequestBody
from portal.api.schemas.types import Shape
from portal.registration.messages import field_error_message

Body = TypeVar("Body", bound=RequestBody)

#: pydantic error type -> the API's field code, whatever the field's type.
_FIXED_CODES = {"extra_forbidden": "unknown_field", "missing": "missing", "invalid_text": "invalid_text"}
#: pydantic error types that refuse a value of the right shape (422): -> (field code, its detail).
_VALUE_CODES = {"string_too_long": ("too_long", "max_length")}
#: The longest field name repeated in an answer.
MAX_NAME = 100


def _malformed(fields: dict[str, tuple[str, object]] | None = None) -> ApiError:
    return ApiError(400, "malformed_json", fields=fields)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def read_object(*, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object. An empty body is ``{}`` when ``allow_empty``; anything else is a 400."""
    # Read through the size limit set for the API (413 when exceeded), never past it.
    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            return {}
        raise _malformed()
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # RecursionError: nesting deeper than the parser's stack (a body of '[[[[...').
        raise _malformed() from error
    if not isinstance(document, dict):
        raise _malformed()
    return document


def field_code(schema: type[RequestBody], name: str) -> str:
    """The code of a field of ``schema`` (by its name in the request) whose value is refused."""
    field = next(f for attribute, f in schema.model_fields.items() if (f.alias or attribute) == name)
    return next(item.code for item in field.metadata if isinstance(item, Shape))


def _shape_code(schema: type[RequestBody], name: str, kind: str) -> str:
    if kind == "extra_forbidden" or (kind in _FIXED_CODES and not schema.field_codes_only):
        return _FIXED_CODES[kind]
    return field_code(schema, name)


def refusal(schema: type[RequestBody], error: ValidationError) -> ApiError:
    """pydantic's errors as one answer: one code per field, a wrong type before anything else."""
    shapes: dict[str, str] = {}
    values: dict[str, tuple[str, object]] = {}
    for detail in error.errors(include_url=False):
        name = str(detail["loc"][0])[:MAX_NAME] if detail["loc"] else ""
        if detail["type"] in _VALUE_CODES and not schema.field_codes_only:
            values[name] = _value_problem(detail)
        elif shapes.get(name) in (None, "invalid_text"):
            shapes[name] = _shape_code(schema, name, detail["type"])
    if shapes and not schema.field_codes_only:
        return _malformed({name: field_problem(code) for name, code in shapes.items()})
    values.update({name: field_problem(code) for name, code in shapes.items()})
    return ApiError(422, "validation_failed", _l("Some fields are not valid."), values)


def _value_problem(detail: ErrorDetails) -> tuple[str, object]:
    code, bound = _VALUE_CODES[detail["type"]]
    limit = (detail.get("ctx") or {}).get(bound)
    return code, field_error_message(code, {"max": limit})


def validate(schema: type[Body], document: dict[str, Any]) -> Body:
    try:
        return schema.model_validate(document)
    except ValidationError as error:
        raise refusal(schema, error) from error


def parse(schema: type[Body], *, allow_empty: bool = False) -> Body:
    """The request's body as ``schema``, or the API's refusal naming every wrong field."""
    return validate(schema, read_object(allow_empty=allow_empty))
