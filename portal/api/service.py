"""Token rules: minting, finding by secret, recording use, revoking. Services flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import User
from portal.accounts.policy import Scope, scopes_allowed
from portal.api.models import ApiToken
from portal.audit.service import record, request_client_address
from portal.extensions import db
from portal.problems import PortalError
from portal.unit_of_work import separate_transaction

SECRET_PREFIX = "csu_"  # noqa: S105 - the public marker of our tokens, not a secret
#: Bytes of randomness behind the prefix (43 URL-safe characters).
SECRET_BYTES = 32
#: Characters of the secret stored in clear, to recognise a token.
SHOWN_PREFIX_LENGTH = 8
#: A secret longer than this is not one of ours; refused without a database lookup.
MAX_SECRET_LENGTH = 100
#: The largest id an integer column holds; a bigger one cannot name a token.
MAX_ID = 2**31 - 1
#: ``last_used_at`` is written at most this often per token, so a busy script does not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: Lifetimes a person may choose, in days; 0 means no expiry. Staff tokens always expire.
APPLICANT_LIFETIMES = (30, 90, 365, 0)
STAFF_LIFETIMES = (30, 90)


class TokenRefused(PortalError):
    """A token cannot be minted: ``code`` says why (``second_factor_required``, ``lifetime_not_allowed``,
    ``scope_required``, ``scope_not_allowed``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class MintedToken:
    token: ApiToken
    #: The secret, to be shown once; only its hash is stored.
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def lifetimes_for(user: User) -> tuple[int, ...]:
    return STAFF_LIFETIMES if user.is_staff else APPLICANT_LIFETIMES


def mint(
    user: User,
    name: str,
    *,
    lifetime_days: int,
    second_factor_passed: bool,
    at: datetime,
    scopes: Iterable[Scope] | None = None,
) -> MintedToken:
    """A new token for ``user`` with ``scopes`` (default: every scope the role allows).

    Staff need a session that passed the second factor; the scopes must be among those the role allows.
    """
    if user.is_staff and not (second_factor_passed and user.has_second_factor):
        raise TokenRefused("second_factor_required")
    if lifetime_days not in lifetimes_for(user):
        raise TokenRefused("lifetime_not_allowed")
    allowed = scopes_allowed(user.role)
    chosen = set(allowed if scopes is None else scopes)
    if not chosen:
        raise TokenRefused("scope_required")
    if not chosen <= set(allowed):
        raise TokenRefused("scope_not_allowed")
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(
        user=user,
        name=name.strip(),
        token_hash=hash_secret(secret),
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        created_at=at,
        expires_at=at + timedelta(days=lifetime_days) if lifetime_days else None,
        scopes=" ".join(scope.value for scope in allowed if scope in chosen),
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api_token.created",
        token,
        actor=user,
        at=at,
        after={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at, "scopes": token.scopes},
        client_address=request_client_address(),
    )
    return MintedToken(token, secret)


def find_usable(secret: str, *, at: datetime) -> ApiToken | None:
    """The token whose secret this is, if it may be used at ``at``; None for anything else."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > MAX_SECRET_LENGTH:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.is_usable(at):
        return None
    return token


def note_use(token: ApiToken, *, at: datetime) -> bool:
    """Record that the token was used, in a short transaction of its own (a refused request counts too);
    True when the row changed. At most once per ``LAST_USED_RESOLUTION``."""
    if token.last_used_at is not None and at - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    with separate_transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=at))
    set_committed_value(token, "last_used_at", at)
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show as revoked)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    return list(db.session.scalars(query).all())


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; another person's token is as good as absent."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    return token if token is not None and token.user_id == user.id else None


def revoke(token: ApiToken, *, actor: User, at: datetime) -> None:
    """Refuse the token from now on; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at = at
    db.session.flush()
    record(
        "api_token.revoked",
        token,
        actor=actor,
        at=at,
        before={"name": token.name, "prefix": token.prefix},
        client_address=request_client_address(),
    )
