"""A real upstream HTTP server that can misbehave, and the proxy run for real as a process."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: What the upstream can be told to do instead of answering well.
FAULTS = ("truncated", "short_length", "chunked_cut", "garbage", "html", "slow", "status500", "reset", "dtd")


class FakeUpstream(http.server.ThreadingHTTPServer):
    """Documents by key (path and sorted query, as the proxy asks); counts every request."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, str] = {}
        self.hits: dict[str, list[float]] = {}
        self.delay = 0.0
        self.slow_seconds = 5.0
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def put(self, key: str, body: bytes, content_type: str = "text/xml") -> None:
        self.documents[key] = (body, content_type)

    def hit_count(self, key: str) -> int:
        with self.lock:
            return len(self.hits.get(key, []))

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the faults break connections on purpose


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeUpstream
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        key = self.path
        with self.server.lock:
            self.server.hits.setdefault(key, []).append(time.monotonic())
        if self.server.delay:
            time.sleep(self.server.delay)
        fault = self.server.faults.get(key)
        document = self.server.documents.get(key)
        if document is None:
            return self._simple(404, b"<html><body>Not found</body></html>", "text/html")
        body, content_type = document
        if fault:
            return self._misbehave(fault, body, content_type)
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def _simple(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _misbehave(self, fault: str, body: bytes, content_type: str) -> None:
        self.close_connection = True
        if fault == "truncated":  # the right Content-Length, then the connection drops half way
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
        elif fault == "short_length":  # a Content-Length that cuts the document
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) - 10))
            self.end_headers()
            self.wfile.write(body[: len(body) - 10])
        elif fault == "chunked_cut":  # chunked, the stream ends inside a chunk
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(f"{len(body):x}\r\n".encode() + body[: len(body) // 3])
        elif fault == "garbage":
            self._simple(200, b"\x00\x01garbage \xff\xfe not xml at all", content_type)
        elif fault == "html":  # well-formed, status 200, even an XML content type
            self._simple(
                200, b"<html><head><title>Chyba</title></head><body><p>Omlouvame se</p></body></html>", content_type
            )
        elif fault == "dtd":
            self._simple(200, b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', content_type)
        elif fault == "slow":
            time.sleep(self.server.slow_seconds)
            self._simple(200, body, content_type)
        elif fault == "status500":
            self._simple(500, b"<html><body>Internal error</body></html>", "text/html")
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(fault)
        return None

    def log_message(self, format: str, *args: object) -> None:
        pass


class Proxy:
    """``feedproxy serve`` as a subprocess on 127.0.0.1 with a free port."""

    def __init__(self, arguments: Sequence[str], log: Path) -> None:
        self.log = log
        command = [sys.executable, "-m", "feedproxy", "serve", "--listen", "127.0.0.1:0", *arguments]
        with log.open("wb") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"listening on http://(?:127\.0\.0\.1|\[::\]):(\d+)", self.output())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"the proxy did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def request(
        self,
        path: str,
        *,
        source: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
        method: str = "GET",
        timeout: float = 20.0,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body) for one request from address ``source``."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            return response.status, {name.lower(): value for name, value in response.getheaders()}, body
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
