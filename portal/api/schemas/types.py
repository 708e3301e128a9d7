"""Field types shared by the API's schemas, and the marker that names a field's problem code.

A request field's type carries :class:`Shape`: the code a caller gets (``not_a_string``, ...) when the
value has the wrong JSON type, whatever pydantic's own error type was.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class Shape:
    """The field code answered when a value has the wrong type or shape."""

    code: str


def clean_text(value: str) -> str:
    """No NUL (PostgreSQL refuses it) and no unpaired surrogate (not encodable as UTF-8)."""
    if "\x00" in value:
        raise PydanticCustomError("invalid_text", "NUL is not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PydanticCustomError("invalid_text", "an unpaired surrogate is not allowed") from error
    return value


#: A JSON string, without NUL or unpaired surrogates.
Text = Annotated[str, AfterValidator(clean_text), Shape("not_a_string")]
#: A JSON list of such strings.
TextList = Annotated[list[Annotated[str, AfterValidator(clean_text)]], Shape("not_a_list_of_strings")]
Flag = Annotated[bool, Shape("not_a_boolean")]


def instant(value: datetime | None) -> str | None:
    """``2099-12-18T23:00:00Z``; microseconds are kept when there are some."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_INSTANT_SCHEMA = {"type": "string", "format": "date-time"}
#: An instant in an answer: ISO 8601 in UTC with ``Z``.
Instant = Annotated[datetime, PlainSerializer(instant, return_type=str), WithJsonSchema(_INSTANT_SCHEMA)]
NullableInstant = Annotated[
    datetime | None,
    PlainSerializer(instant, return_type=str | None),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time"}),
]
Day = date


def enum_schema(kind: type[enum.StrEnum], *, nullable: bool = False) -> WithJsonSchema:
    """An enumeration inline (``{"type": "string", "enum": [...]}``), not as a separate component."""
    values: list[Any] = [member.value for member in kind]
    schema: dict[str, Any] = {"type": "string", "enum": values}
    if nullable:
        schema = {"type": ["string", "null"], "enum": [*values, None]}
    return WithJsonSchema(schema)
