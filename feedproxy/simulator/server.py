"""The simulator's HTTP server: the office's document paths plus a control API under ``/_control/``.

Documents (GET or HEAD), as ``Simulation.resolve`` renders them at the clock's elapsed time, with
``Last-Modified`` and a strong ``ETag``; ``If-None-Match`` (checked first) or ``If-Modified-Since``
get 304 while the document is unchanged. Unknown paths get 404 with a short text body.

Control API (JSON in and out; control requests are not counted in the stats):

- ``GET /_control/``: election, seed, duration, batches, clock, current batch, the document paths and
  ``publications``: each numbered batch's appdata path and when it is published (epoch seconds).
- ``GET /_control/stats``: ``{"total": n, "paths": {path: n}, "urls": {path?query: n},
  "statuses": {"200": n, "304": n, "reset": n, ...}, "faults": {kind: n}}``. A request counts when it
  arrives (a ``slow`` one too), so a proxy's single-flight test can read upstream hits at once.
- ``GET /_control/hits``: ``{path?query: [epoch seconds, ...]}``, when each request arrived (the newest
  ``MAX_HITS_PER_URL`` per URL): how often a proxy went upstream for each document, interval by interval.
- ``POST /_control/stats/reset``: zero the counters (and the arrival times).
- ``POST /_control/fault``: add a rule, e.g. ``{"kind": "truncated", "count": 3, "path": "/pls/prez2023/vysledky"}``;
  answers 201 with the rule. Fields: ``kind`` (truncated, short, garbage, html, status500, slow, reset; see
  ``faults``), ``count`` (default 1; null with ``for_seconds`` for a time span), ``path`` (exact path,
  ``path?query``, or a prefix ending in ``*``; default every document), ``seconds`` (slow: the delay, default
  5), ``probability`` (default 1), ``content_type`` (html: claim this type instead of text/html),
  ``for_seconds`` (the rule lapses after this long).
- ``GET /_control/fault``: the pending rules. ``DELETE /_control/fault``: drop them all.
- ``GET /_control/clock``: ``{"elapsed": s, "frozen": bool, "batch": n}``.
  ``POST /_control/clock`` ``{"elapsed": s, "frozen": true}``: jump (and freeze or run) the clock.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from feedproxy.simulator import faults as faulting
from feedproxy.simulator.clock import Clock
from feedproxy.simulator.faults import FaultBook, FaultError, FaultRule
from feedproxy.simulator.simulation import Rendered, Simulation, etag_of

CONTROL = "/_control/"
MAX_CONTROL_BODY = 64 * 1024


#: Arrival times kept per URL for ``/_control/hits``: an hour of one request a second.
MAX_HITS_PER_URL = 3600


class Stats:
    """Upstream hit counters, shared by the request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._paths: dict[str, int] = {}
            self._urls: dict[str, int] = {}
            self._statuses: dict[str, int] = {}
            self._faults: dict[str, int] = {}
            self._hits: dict[str, deque[float]] = {}

    def arrived(self, path: str, query: str) -> None:
        url = f"{path}?{query}" if query else path
        at = time.time()
        with self._lock:
            self._hits.setdefault(url, deque(maxlen=MAX_HITS_PER_URL)).append(at)
            self._total += 1
            self._paths[path] = self._paths.get(path, 0) + 1
            self._urls[url] = self._urls.get(url, 0) + 1

    def answered(self, status: int | str, fault: str | None = None) -> None:
        with self._lock:
            self._statuses[str(status)] = self._statuses.get(str(status), 0) + 1
            if fault is not None:
                self._faults[fault] = self._faults.get(fault, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "paths": dict(self._paths),
                "urls": dict(self._urls),
                "statuses": dict(self._statuses),
                "faults": dict(self._faults),
            }

    def hits(self) -> dict[str, list[float]]:
        with self._lock:
            return {url: list(times) for url, times in self._hits.items()}


class SimulatorServer:
    """The simulation behind HTTP, in a background thread: ``with SimulatorServer(sim) as server: server.url``."""

    def __init__(
        self,
        simulation: Simulation,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        faults: FaultBook | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.simulation = simulation
        self.clock = clock if clock is not None else Clock()
        self.faults = faults if faults is not None else FaultBook(simulation.seed)
        self.stats = Stats()
        self.log = log
        self.stopping = threading.Event()
        self._garbage_serial = 0
        self._serial_lock = threading.Lock()
        server_class = _IPv6Server if ":" in host else _Server
        self.httpd = server_class((host, port), _Handler)
        self.httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes ``slow`` answers
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_garbage(self) -> bytes:
        with self._serial_lock:
            self._garbage_serial += 1
            serial = self._garbage_serial
        return faulting.garbage(self.simulation.seed, serial)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: a proxy revalidates dozens of documents in one tick. With the default of 5 the
    # kernel drops the surplus connection attempts, the proxy's SYN is retried a second later, and the
    # upstream sees two requests for one document less than a refresh interval apart.
    request_queue_size = 128
    block_on_close = False  # a ``slow`` answer must not hold up shutdown
    allow_reuse_address = True
    owner: SimulatorServer


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedproxy-simulator/1"
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.owner.log
        if log is not None:
            log(f"{self.address_string()} {format % args}")

    # -- verbs -----------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith(CONTROL):
            self.close_connection = True  # the body is not read
            self._plain(405, "405 Method Not Allowed\n", extra=[("Allow", "GET, HEAD")])
            return
        try:
            body = self._json_body()
        except ValueError as error:
            self._json(400, {"error": str(error)})
            return
        owner = self.server.owner
        if path == CONTROL + "fault":
            try:
                rule = owner.faults.add(FaultRule.from_json(body))
            except FaultError as error:
                self._json(400, {"error": error.detail, "field": error.field})
                return
            self._json(201, rule.to_json())
        elif path == CONTROL + "stats/reset":
            owner.stats.reset()
            self._json(200, owner.stats.snapshot())
        elif path == CONTROL + "clock":
            elapsed, frozen = body.get("elapsed"), body.get("frozen")
            if isinstance(elapsed, bool) or not isinstance(elapsed, int | float) or frozen not in (None, True, False):
                self._json(400, {"error": "elapsed must be a number, frozen a boolean"})
                return
            owner.clock.set(float(elapsed), frozen)
            self._json(200, self._clock_json())
        else:
            self._json(404, {"error": "no such control endpoint"})

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == CONTROL + "fault":
            self.server.owner.faults.clear()
            self._json(200, {"pending": []})
        else:
            self._json(404, {"error": "no such control endpoint"})

    # -- documents -------------------------------------------------------------------------------------

    def _dispatch(self, head: bool) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith(CONTROL) or parts.path == CONTROL.rstrip("/"):
            self._control_get(parts.path)
            return
        owner = self.server.owner
        owner.stats.arrived(parts.path, parts.query)
        rule = owner.faults.take(parts.path, parts.query)
        if rule is not None and rule.kind == "slow":
            owner.stopping.wait(rule.seconds)
        rendered = owner.simulation.resolve(parts.path, parts.query, owner.clock.elapsed())
        if rule is not None and rule.kind != "slow":
            self._spoil(rule, rendered, head)
            return
        fault = "slow" if rule is not None else None
        if rendered.status == 200 and self._not_modified(rendered):
            owner.stats.answered(304, fault)
            self._send(304, _validators(rendered), b"", head=True)
            return
        owner.stats.answered(rendered.status, fault)
        self._send(
            rendered.status, [("Content-Type", rendered.content_type), *_validators(rendered)], rendered.body, head
        )

    def _not_modified(self, rendered: Rendered) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or rendered.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since is None or rendered.last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return rendered.last_modified <= since

    def _spoil(self, rule: FaultRule, rendered: Rendered, head: bool) -> None:
        owner = self.server.owner
        kind = rule.kind
        # Counted before anything is written: a client that has read the answer must find it counted.
        status = {"status500": 500, "html": 200, "garbage": 200, "reset": "reset"}.get(kind, rendered.status)
        owner.stats.answered(status, kind)
        if kind == "reset":
            # Linger 0: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if kind == "status500":
            self._send(500, [("Content-Type", "text/html; charset=utf-8")], faulting.ERROR_PAGE, head)
        elif kind == "html":
            self._send(
                200, [("Content-Type", rule.content_type or "text/html; charset=utf-8")], faulting.HTML_PAGE, head
            )
        elif kind == "garbage":
            self._send(200, [("Content-Type", rendered.content_type)], owner.next_garbage(), head)
        elif kind == "truncated":
            body = faulting.truncate(rendered.body)
            cut = replace(rendered, body=body, etag=etag_of(body) if rendered.etag else None)
            self._send(rendered.status, [("Content-Type", rendered.content_type), *_validators(cut)], body, head)
        elif kind == "short":
            self.send_response(rendered.status)
            self.send_header("Content-Type", rendered.content_type)
            self.send_header("Content-Length", str(len(rendered.body)))
            self.end_headers()
            if not head:
                self.wfile.write(rendered.body[: len(rendered.body) // 2])
            self.close_connection = True

    # -- control ---------------------------------------------------------------------------------------

    def _control_get(self, path: str) -> None:
        owner = self.server.owner
        if path in (CONTROL, CONTROL.rstrip("/")):
            sim = owner.simulation
            self._json(
                200,
                {
                    "election": sim.code,
                    "seed": sim.seed,
                    "duration": sim.duration,
                    "batches": sim.batches,
                    "start": sim.start.isoformat(),
                    "clock": self._clock_json(),
                    "documents": [{"what": what, "path": path} for what, path in sim.documents()],
                    "publications": [
                        {"path": path, "at": sim.start.timestamp() + elapsed} for path, elapsed in sim.publications()
                    ],
                },
            )
        elif path == CONTROL + "stats":
            self._json(200, owner.stats.snapshot())
        elif path == CONTROL + "hits":
            self._json(200, owner.stats.hits())
        elif path == CONTROL + "fault":
            self._json(200, {"pending": owner.faults.pending()})
        elif path == CONTROL + "clock":
            self._json(200, self._clock_json())
        else:
            self._json(404, {"error": "no such control endpoint"})

    def _clock_json(self) -> dict[str, Any]:
        owner = self.server.owner
        elapsed = owner.clock.elapsed()
        return {"elapsed": elapsed, "frozen": owner.clock.frozen, "batch": owner.simulation.batch_at(elapsed)}

    def _json_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_CONTROL_BODY:
            self.close_connection = True  # the body is not read
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            data = json.loads(raw or b"{}")
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON: {error.msg}") from error
        if not isinstance(data, dict):
            raise ValueError("a JSON object expected")
        return data

    # -- writing ---------------------------------------------------------------------------------------

    def _json(self, status: int, data: object) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        self._send(status, [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")], body)

    def _plain(self, status: int, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self._send(status, [("Content-Type", "text/plain; charset=utf-8"), *(extra or [])], text.encode("utf-8"))

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, head: bool = False) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


def _validators(rendered: Rendered) -> list[tuple[str, str]]:
    headers = []
    if rendered.last_modified is not None:
        headers.append(("Last-Modified", format_datetime(rendered.last_modified, usegmt=True)))
    if rendered.etag is not None:
        headers.append(("ETag", rendered.etag))
    return headers
