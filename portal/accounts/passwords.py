"""Password hashing with argon2id.

Production uses argon2-cffi's RFC 9106 low-memory profile; the test suite may ask for the cheapest
profile so that hundreds of accounts hash quickly. Production refuses the cheap one (config.py).
"""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
MIN_LENGTH = 10

_hasher = PasswordHasher.from_parameters(PROFILES["rfc9106-low-memory"])
_dummy_hash = _hasher.hash("not a password of anybody")


def configure(profile: str) -> None:
    """Select the argon2 parameters for new hashes; existing hashes keep verifying."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(PROFILES[profile])
    #: Verified against when the e-mail is unknown, so both cases take the same time.
    _dummy_hash = _hasher.hash("not a password of anybody")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
