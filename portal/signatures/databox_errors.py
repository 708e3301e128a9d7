"""The one error a ``.zfo`` reader raises, with a stable code (see :data:`ERROR_CODES`)."""

from __future__ import annotations

from portal.problems import PortalError

__all__ = ["ERROR_CODES", "DataboxError"]

ERROR_CODES = frozenset(
    {
        "not_cms",
        "signature_invalid",
        "weak_algorithm",
        "signer_not_trusted",
        "revoked",
        "not_a_message",
        "wrong_recipient",
        "malformed_xml",
        "too_large",
    }
)


class DataboxError(PortalError, ValueError):
    """A ``.zfo`` file that cannot be accepted; ``code`` is one of :data:`ERROR_CODES`.

    ``algorithm`` names the retired algorithm of a ``weak_algorithm`` refusal ("SHA-1", "RSA-1024").
    """

    def __init__(self, code: str, message: str, *, algorithm: str | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown data-box error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.algorithm = algorithm

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
