"""Why an election cannot be saved: a stable ``code``, the form ``field`` at fault, and the data a message needs."""

from __future__ import annotations

from typing import Any

from portal.problems import PortalError


class ElectionError(PortalError):
    """An election that cannot be saved; :mod:`portal.elections.messages` puts it into words."""

    def __init__(self, code: str, /, *, field: str | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.details = details

    @property
    def data(self) -> dict[str, Any]:
        return {"field": self.field, **self.details}
