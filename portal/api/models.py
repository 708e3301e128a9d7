"""Personal API tokens: only a hash of the secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.accounts.policy import Scope
from portal.db import Model, utcnow


class ApiToken(Model):
    """A secret a person gives a script so it can call the API as that person.

    A staff member can mint one only in a session that passed the second factor, so a staff
    token counts as staff-verified: the second factor was proven when the token was minted.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: What the person called it ("newsroom importer"), to tell their tokens apart.
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the whole secret; the secret itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first 8 characters of the secret (``csu_`` and 4 more), to recognise it in a list.
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Updated at most once a minute (see ``service.LAST_USED_RESOLUTION``).
    last_used_at: Mapped[datetime | None]
    #: Refused from this instant on; None: valid until revoked.
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: What the token may be used for: scope names separated by spaces (``policy.Scope``), chosen when
    #: it was made and bounded by its owner's role. A token never does more than both allow.
    scopes: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[Scope]:
        known = {scope.value for scope in Scope}
        return frozenset(Scope(name) for name in self.scopes.split() if name in known)

    def is_usable(self, at: datetime) -> bool:
        """Neither revoked nor expired at ``at``, and its owner may still sign in."""
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and at >= self.expires_at:
            return False
        return self.user.is_active
