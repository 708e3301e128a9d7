"""What can go wrong with the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AuditLogIsAppendOnly(Exception):
    """Something tried to change or delete recorded audit events through the ORM."""

    operation: str  #: "update" or "delete"
    event_ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        ids = ", ".join(str(i) for i in self.event_ids) or "?"
        return f"the audit log is append-only: {self.operation} of event(s) {ids} refused"
