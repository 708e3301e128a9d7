"""Password hashing with argon2id.

Production uses argon2-cffi's RFC 9106 low-memory profile; the test suite may ask for the cheapest
profile so that hundreds of accounts hash quickly. Production refuses the cheap one (config.py).
"""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
MIN_LENGTH = 10


class _Hashing:
    """The process's argon2 parameters, switched in place by :func:`configure`."""

    def __init__(self, profile: str) -> None:
        self.use(profile)

    def use(self, profile: str) -> None:
        self.hasher = PasswordHasher.from_parameters(PROFILES[profile])
        #: Verified against when the e-mail is unknown, so both cases take the same time.
        self.dummy_hash = self.hasher.hash("not a password of anybody")


_hashing = _Hashing("rfc9106-low-memory")


def configure(profile: str) -> None:
    """Select the argon2 parameters for new hashes; existing hashes keep verifying."""
    _hashing.use(profile)


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return _hashing.hasher.verify(stored_hash or _hashing.dummy_hash, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hashing.hasher.check_needs_rehash(stored_hash)
