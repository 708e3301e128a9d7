"""The allowlist signing key as a file: made on first use in development, checked in production.

No private key is kept in the repository (a test fails if one is). Development makes its key under
``var/`` (git-ignored); production refuses any key the project has ever used for development or
tests, recognised by the SHA-256 fingerprint of its public key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Where development makes its key when PORTAL_ALLOWLIST_KEY is not set (``var/`` is git-ignored).
DEVELOPMENT_KEY = PROJECT_ROOT / "var" / "allowlist-key.pem"

#: SHA-256 (hex) of the DER SubjectPublicKeyInfo of every key the project published: never for production.
KNOWN_DEVELOPMENT_KEYS: dict[str, str] = {
    "1abf3c30fcb8412388b612af8313aa49911682a121455ca71fea4db841c53372": (
        "instance/allowlist-key.pem, once tracked in the repository"
    ),
    "fcb0dcbce105f1cd983815618ba0c74e142a38d316d75a38306ab4fbac711b39": (
        "tests/data/allowlist-test-key.pem, once tracked in the repository"
    ),
}


class KeyFileError(ValueError):
    """The key file cannot be used; the message says why."""


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read it ({error.strerror})") from error
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; a new one written there (mode 0600) when the file does not exist yet.

    Written to a temporary file and linked into place, so two processes starting together never
    read half a key and both end up with the same one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            os.write(descriptor, pem)
            os.close(descriptor)
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return load(path)


def refuse_development_key(path: Path) -> None:
    """Raise unless ``path`` holds an Ed25519 key that never served development or tests."""
    key = load(path)
    known = KNOWN_DEVELOPMENT_KEYS.get(fingerprint(key))
    if known:
        raise KeyFileError(f"{path} is a development or test key ({known}); make a new one")
    if DEVELOPMENT_KEY.exists() and fingerprint(load(DEVELOPMENT_KEY)) == fingerprint(key):
        raise KeyFileError(f"{path} is this checkout's development key ({DEVELOPMENT_KEY}); make a new one")
