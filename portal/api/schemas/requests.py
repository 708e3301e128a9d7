"""What callers send to ``/api/v1``: strictly typed (no coercion), unknown fields refused.

Only the shape is checked here (types, known fields, the API's own bounds); what the values mean is
the services' business, and their refusals are 422 with the service's own codes.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from portal.accounts.access import MAX_ID
from portal.api.schemas.types import Flag, Shape, Text, TextList, enum_schema
from portal.elections.service import election_by_code
from portal.registration import content as registration
from portal.registration.models import MAX_PRODUCTION_ADDRESSES, MAX_TEST_ADDRESSES, VersionState

MAX_INTERNAL_REASON = 2000
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500

#: A version number the caller saw: ``expected_version`` of a decision. Left out, it is not checked;
#: ``null`` is not a version number and is refused like any other wrong value.
VersionNumber = Annotated[int, Field(ge=1, le=MAX_ID), Shape("not_a_positive_integer")]


class RequestBody(BaseModel):
    """A JSON object of known fields, each of its exact JSON type."""

    model_config = ConfigDict(extra="forbid", strict=True)

    #: True: every problem of a field is answered with the field's own code (its :class:`Shape`), as 422
    #: ``validation_failed``; False: a wrong shape is 400 ``malformed_json``.
    field_codes_only: ClassVar[bool] = False


class Empty(RequestBody):
    """No fields; the body may be empty."""


class ApplicationContent(RequestBody):
    """A draft's content (``PUT /applications/<id>``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "A draft's content. Fields left out are empty. Values are checked by the registration "
            "rules: a draft may be incomplete, but its addresses must be acceptable."
        }
    )

    contact_email: Text = ""
    contact_phone: Text = Field("", description="Czech numbers may omit +420.")
    production: TextList = Field([], description=f"At most {MAX_PRODUCTION_ADDRESSES} public addresses (IPv4 or IPv6).")
    test: TextList = Field([], description=f"At most {MAX_TEST_ADDRESSES}; cut while results are processed.")
    accept_terms: Flag = Field(False, description="Needed to submit.")
    note: Text = Field("", description=f"At most {registration.MAX_NOTE_LENGTH} characters.")

    def content(self) -> registration.ApplicationContent:
        return registration.ApplicationContent(
            contact_email=self.contact_email,
            contact_phone=self.contact_phone,
            production=list(self.production),
            test=list(self.test),
            accept_terms=self.accept_terms,
            note=self.note,
        )


class ApplicationCreate(ApplicationContent):
    """Start an application (``POST /applications``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Starts an application, saves its content and, with `submit`, submits it: all or nothing."
        }
    )

    election: Text = Field(description="The election's code.")
    submit: Flag = False


class Decision(RequestBody):
    """What every decision may carry: the version the reviewer saw."""

    # None when left out; a factory, so that the document names no default (``null`` is not an integer).
    expected_version: VersionNumber = Field(  # type: ignore[assignment]
        default_factory=lambda: None,
        description="The version number the decision was made on (the application's `version`). When given "
        "and no longer the latest, the decision is refused with `stale_version` (409).",
    )


class Approve(Decision):
    acknowledge_conflicts: Flag = Field(
        False, description="Approve although another organisation claims one of the addresses."
    )


class Reject(Decision):
    """A rejection or a revocation."""

    internal_reason: Text = Field(
        "",
        max_length=MAX_INTERNAL_REASON,
        description="Optional and internal to the office: never shown to the outlet.",
    )


def _blank_is_none(value: object) -> object:
    """A query argument left empty (``?state=``) filters nothing, as one left out."""
    return None if value == "" else value


def _election_id(code: object) -> int | None:
    """The id of the election with this code; an unknown code is refused."""
    if code is None:
        return None
    found = election_by_code(code) if isinstance(code, str) else None
    if found is None:
        raise PydanticCustomError("unknown_election", "no election has this code")
    return found.id


def _positive_number(value: object) -> object:
    """A query argument of at most nine ASCII digits, at least 1 (``0``, ``-1``, ``1.0``, ``+1`` are refused)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9 and int(value) >= 1:
        return int(value)
    raise PydanticCustomError("not_a_positive_integer", "not a whole number of at least 1")


PageNumber = Annotated[int, BeforeValidator(_positive_number), Shape("not_a_positive_integer")]


class ApplicationQuery(RequestBody):
    """The filters and the page of ``GET /applications`` (query arguments; others are ignored)."""

    model_config = ConfigDict(extra="ignore")
    field_codes_only: ClassVar[bool] = True

    election_id: Annotated[
        int | None,
        BeforeValidator(_election_id),
        BeforeValidator(_blank_is_none),
        Shape("unknown_election"),
        WithJsonSchema({"type": "string"}),
    ] = Field(None, alias="election", description="Election code.")
    state: Annotated[
        VersionState | None,
        BeforeValidator(_blank_is_none),
        enum_schema(VersionState),
        Shape("invalid_choice"),
    ] = Field(None, strict=False, description="The state of the latest version.")
    page: Annotated[PageNumber, WithJsonSchema({"type": "integer", "minimum": 1})] = 1
    #: More than ``MAX_PER_PAGE`` is answered with that many.
    per_page: Annotated[PageNumber, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})] = (
        DEFAULT_PER_PAGE
    )
