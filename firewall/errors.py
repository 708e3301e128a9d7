"""The firewall's errors: each carries a stable ``code`` and a human ``detail``; never match on the message."""

from __future__ import annotations


class FirewallError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class RenderError(FirewallError):
    """The snapshot cannot be rendered; for ``bad_entry``/``duplicate_entry`` ``address`` names the entry."""

    def __init__(self, code: str, detail: str, *, address: str | None = None, address_code: str | None = None):
        super().__init__(code, detail)
        self.address = address
        self.address_code = address_code


class NftError(FirewallError):
    """nft is missing, refused the script (``stderr`` holds its message), or the live table does not match."""

    def __init__(self, code: str, detail: str, *, stderr: str = "") -> None:
        super().__init__(code, detail)
        self.stderr = stderr


class ApplyRefused(FirewallError):
    """A brake: an older version, too large a drop, another election, a pending confirmation, ..."""
