"""Signed, expiring links for e-mail confirmation and password reset."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.accounts.errors import InvalidToken
from portal.accounts.models import User

CONFIRM_SALT = "accounts.confirm-email"
RESET_SALT = "accounts.reset-password"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    """Changes with the password, so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def confirmation_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"user": user.id, "email": user.email})


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"user": user.id, "password": _password_fingerprint(user)})


def _load(token: str, salt: str) -> dict[str, object]:
    max_age = int(current_app.config["PORTAL_TOKEN_MAX_AGE"].total_seconds())
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except BadData as error:
        raise InvalidToken() from error
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise InvalidToken()
    return data


def user_from_confirmation_token(token: str) -> tuple[int, str]:
    """The user id and the address the link was sent to."""
    data = _load(token, CONFIRM_SALT)
    return int(data["user"]), str(data.get("email", ""))  # type: ignore[call-overload]


def check_reset_token(token: str, user: User) -> None:
    data = _load(token, RESET_SALT)
    if data["user"] != user.id or data.get("password") != _password_fingerprint(user):
        raise InvalidToken()


def user_id_from_reset_token(token: str) -> int:
    return int(_load(token, RESET_SALT)["user"])  # type: ignore[call-overload]
