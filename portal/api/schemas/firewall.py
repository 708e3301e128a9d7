"""What a firewall agent reports (``POST /elections/<code>/allowlist/reports``) and what it gets back.

Every refused field is answered with its own code as 422 ``validation_failed``: an agent reads the codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from allowlist.phase import Phase
from portal.access.hosts import HOST_NAME, MAX_DETAIL, SET_NAME, Report, ReportStatus
from portal.api.schemas.requests import RequestBody
from portal.api.schemas.types import Shape, clean_text, enum_schema

#: The largest version or element count an agent may report.
MAX_COUNT = 10_000_000
MAX_SETS = 16


def _host_name(value: str) -> str:
    if not HOST_NAME.fullmatch(value):
        raise PydanticCustomError("invalid_host", "not a host name")
    return value


def _aware_instant(value: object) -> object:
    """An ISO 8601 instant with a time zone, read as Python reads it (``datetime.fromisoformat``)."""
    if value is None or not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise PydanticCustomError("not_an_instant", "not an ISO 8601 instant") from error
    if parsed.tzinfo is None:
        raise PydanticCustomError("not_an_instant", "an instant needs a time zone")
    return parsed


SetName = Annotated[str, Field(pattern=f"^{SET_NAME.pattern}$")]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class FirewallReport(RequestBody):
    field_codes_only: ClassVar[bool] = True

    host: Annotated[
        str,
        AfterValidator(_host_name),
        Shape("invalid_host"),
        WithJsonSchema({"type": "string", "maxLength": 253}),
    ] = Field(description="The agent's host name.")
    status: Annotated[ReportStatus, enum_schema(ReportStatus), Shape("invalid_choice")] = Field(strict=False)
    version: Annotated[Annotated[int, Field(ge=1, le=MAX_COUNT)] | None, Shape("not_a_positive_integer")] = Field(
        None, description="The version in force."
    )
    phase: Annotated[Phase | None, enum_schema(Phase, nullable=True), Shape("invalid_choice")] = Field(
        None, strict=False
    )
    applied_at: Annotated[
        datetime | None,
        BeforeValidator(_aware_instant),
        Shape("not_an_instant"),
        WithJsonSchema({"type": ["string", "null"], "format": "date-time"}),
    ] = None
    entries: Annotated[Count | None, Shape("not_a_count")] = None
    counts: Annotated[dict[SetName, Count], Field(max_length=MAX_SETS), Shape("invalid_counts")] = Field(
        default_factory=dict, json_schema_extra={"additionalProperties": False}
    )
    detail: Annotated[
        str,
        AfterValidator(clean_text),
        Shape("not_a_string"),
        WithJsonSchema({"type": "string", "maxLength": MAX_DETAIL}),
    ] = Field("", description="Reason code and message, if any.")

    def report(self) -> Report:
        return Report(
            host=self.host,
            status=self.status,
            version=self.version,
            phase=self.phase.value if self.phase is not None else None,
            applied_at=self.applied_at,
            entries=self.entries,
            counts=dict(self.counts),
            detail=self.detail[:MAX_DETAIL],
        )


class FirewallReportAccepted(BaseModel):
    host: str
    version: int | None
    status: str
