"""Reading a JSON request body: bounded, strictly typed, every wrong field named at once.

Only the shape is checked here (types, known fields); what the values mean is the services' business.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import request

from portal.api.errors import ApiError, field_problem

#: A field's expected JSON type.
STRING, BOOLEAN, STRING_LIST, VERSION_NUMBER = "string", "boolean", "string_list", "version_number"
_TYPE_PROBLEM = {
    STRING: "not_a_string",
    BOOLEAN: "not_a_boolean",
    STRING_LIST: "not_a_list_of_strings",
    VERSION_NUMBER: "not_a_positive_integer",
}


def _malformed(fields: Mapping[str, tuple[str, object]] | None = None) -> ApiError:
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


def _clean_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no unpaired surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(kind: str, value: object) -> str | None:
    if kind == STRING:
        if not isinstance(value, str):
            return _TYPE_PROBLEM[kind]
        return None if _clean_text(value) else "invalid_text"
    if kind == BOOLEAN:
        return None if isinstance(value, bool) else _TYPE_PROBLEM[kind]
    if kind == VERSION_NUMBER:  # an integer of at least 1 (JSON true is not 1)
        return None if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else _TYPE_PROBLEM[kind]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return _TYPE_PROBLEM[kind]
    return None if all(_clean_text(item) for item in value) else "invalid_text"


def check_fields(document: Mapping[str, Any], schema: Mapping[str, str], required: tuple[str, ...] = ()) -> None:
    """Every field of ``document`` known to ``schema`` and of its type, every required one present."""
    problems: dict[str, tuple[str, object]] = {}
    for name, value in document.items():
        kind = schema.get(name)
        if kind is None:
            problems[str(name)[:100]] = field_problem("unknown_field")
            continue
        problem = _problem(kind, value)
        if problem:
            problems[name] = field_problem(problem)
    for name in required:
        if name not in document:
            problems[name] = field_problem("missing")
    if problems:
        raise _malformed(problems)


def parse(schema: Mapping[str, str], required: tuple[str, ...] = (), *, allow_empty: bool = False) -> dict[str, Any]:
    document = read_object(allow_empty=allow_empty)
    check_fields(document, schema, required)
    return document
