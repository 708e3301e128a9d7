"""A real HTTP server on 127.0.0.1 that plays the portal's allowlist API for the firewall agent's tests.

It serves the published snapshot signed with the test key, answers 304 to a matching ``If-None-Match``,
records every request and every posted report, and can be told to misbehave (``answer_with``) or to go
away altogether (``down``: nothing listens on its port until ``up``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.snapshot import Snapshot, sign_document, snapshot_document

TOKEN = "agent-token-for-tests"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """What the allowlist endpoint answers instead of the published snapshot."""

    status: int
    body: bytes
    #: send the headers (with the full Content-Length) and half the body, then close the connection
    cut: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class FakePortal:
    def __init__(self, key: Ed25519PrivateKey, election: str = "prez2028") -> None:
        self.key = key
        self.election = election
        self.document: dict[str, Any] | None = None
        self.etag: str | None = None
        self.answer: Answer | None = None
        self.report_status = 201
        self.requests: list[Seen] = []
        self.reports: list[dict[str, Any]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def allowlist_path(self) -> str:
        return f"/api/v1/elections/{self.election}/allowlist"

    def publish(self, snapshot: Snapshot) -> bytes:
        """Serve ``snapshot`` from now on (signed with the portal's key); returns the bytes it serves."""
        self.document = sign_document(snapshot_document(snapshot), self.key)
        self.etag = f'"{snapshot.election}-v{snapshot.version}"'
        self.answer = None
        return self.body()

    def body(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False).encode("utf-8")

    def answer_with(
        self, status: int, body: bytes, *, cut: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        self.answer = Answer(status, body, cut, headers or {})

    def gets(self) -> list[Seen]:
        return [r for r in self.requests if r.method == "GET"]

    # --- the server ---------------------------------------------------------------------------------------

    def up(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def down(self) -> None:
        """Stop listening: connections are refused until ``up`` (on the same port)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(5)
        self._server = None


@contextmanager
def running(portal: FakePortal) -> Iterator[FakePortal]:
    portal.up()
    try:
        yield portal
    finally:
        portal.down()


class _PortalHandler(BaseHTTPRequestHandler):
    """The portal's two allowlist endpoints, answering as ``portal`` (set per server by ``_handler``) says."""

    portal: FakePortal
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self) -> None:
        self.portal.requests.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, b'{"error": "unauthorised"}')
        return False

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self) -> None:
        self._record()
        if self.path != self.portal.allowlist_path:
            self._send(404, b'{"error": "not found"}')
            return
        if not self._authorised():
            return
        if self.portal.answer is not None:
            self._misbehave(self.portal.answer)
        elif self.portal.document is None:
            self._send(404, b'{"error": "nothing published"}')
        elif self.portal.etag is not None and self.headers.get("If-None-Match") == self.portal.etag:
            self.send_response(304)
            self.send_header("ETag", self.portal.etag)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
        else:
            self._send(200, self.portal.body(), {"ETag": self.portal.etag or ""})

    def _misbehave(self, answer: Answer) -> None:
        if not answer.cut:
            self._send(answer.status, answer.body, answer.headers)
            return
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body[: len(answer.body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def do_POST(self) -> None:
        self._record()
        if self.path != f"{self.portal.allowlist_path}/reports":
            self._send(404, b'{"error": "not found"}')
            return
        if not self._authorised():
            return
        length = int(self.headers.get("Content-Length", "0"))
        self.portal.reports.append(json.loads(self.rfile.read(length)))
        self._send(self.portal.report_status, b"{}")


def _handler(portal: FakePortal) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_PortalHandler,), {"portal": portal})
