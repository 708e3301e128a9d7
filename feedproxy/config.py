"""The settings of ``feedproxy serve``, as parsed from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class ServeConfig:
    upstream: str
    snapshot: str
    public_key: Ed25519PublicKey | None
    token: str | None = None
    allow_documentation: bool = False
    #: test-only: admit loopback entries in the snapshot (the bench and the tests connect from 127.0.0.x)
    allow_loopback_clients: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    refresh: float = 10.0
    timeout: float = 5.0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    trusted_proxies: tuple[str, ...] = ()
    #: TCP peers that may read /metrics, /stats.json and /healthz (loopback when none is given)
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    #: when set, /metrics and /stats.json also need ``Authorization: Bearer <token>``
    metrics_token: str | None = None
    #: the election served; None: the first snapshot loaded fixes it
    election: str | None = None
    rate: float = 10.0
    burst: float = 50.0
    max_document_bytes: int = 16 * 1024 * 1024
    max_documents: int = 5000
    upstream_concurrency: int = 8
    snapshot_poll: float = 5.0
    #: seconds a connection has to send a complete request head (also the idle keep-alive bound)
    header_timeout: float = 5.0
    #: connections one source address may hold to the proxy's port (nftables ``ct count``); 0: no cap here
    connection_limit: int = 0

    def worker_settings(self) -> dict[str, Any]:
        """What every worker is told when it connects."""
        return {
            "workers": self.workers,
            "refresh": self.refresh,
            "trusted_proxies": list(self.trusted_proxies),
            "metrics_allow": list(self.metrics_allow),
            "metrics_token": self.metrics_token,
            "rate": self.rate,
            "burst": self.burst,
            "want_timeout": 2 * self.timeout + 5,
        }
