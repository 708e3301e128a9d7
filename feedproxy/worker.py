"""A server worker: the RSGI application granian runs, one per process.

The hot path (a document request) does no parsing and no network scan: the peer address is cut out
of the string granian gives, the access table answers with one dict lookup (``allowed`` is set for the
current phase and recomputed only when a phase boundary passes), the token bucket takes one more,
and the response headers were built for the document version (rebuilt once a second for ``Age``).
A worker holds every document in its own memory; the fetcher process sends new versions to all of
them, and a worker asks it for a document it lacks (the fetcher fetches it once, for all).
"""

from __future__ import annotations

import asyncio
import hmac
import os
import signal
import socket
import time
from email.utils import parsedate_to_datetime
from typing import Any

from feedproxy import responses
from feedproxy.access import AccessTable, Client, forwarded_client, may_read_operations
from feedproxy.documents import Version
from feedproxy.ipc import encode, read_message, read_message_blocking
from feedproxy.paths import NotADocument, document_key
from feedproxy.ratelimit import TokenBuckets, retry_after

IPC_ENVIRONMENT = "FEEDPROXY_IPC"
_time = time.time
_TEXT = responses.TEXT


class Document:
    """One version as a worker serves it, with its response headers for the current second."""

    __slots__ = (
        "body",
        "cache_control",
        "etag",
        "etag_gzip",
        "gzip_body",
        "headers_200",
        "headers_200_gzip",
        "headers_304",
        "headers_304_gzip",
        "last_modified",
        "modified_at",
        "second",
        "validated_at",
        "version",
    )

    def __init__(self, version: Version, validated_at: float, cache_control: str) -> None:
        self.version = version
        self.body = version.body
        self.gzip_body = version.gzip_body
        self.etag = version.etag
        self.etag_gzip = version.etag_gzip
        self.last_modified = version.last_modified
        self.modified_at = parsedate_to_datetime(version.last_modified).timestamp()
        self.cache_control = cache_control
        self.validated_at = validated_at
        self.second = -1
        self.headers_200: list[tuple[str, str]] = []
        self.headers_200_gzip: list[tuple[str, str]] = []
        self.headers_304: list[tuple[str, str]] = []
        self.headers_304_gzip: list[tuple[str, str]] = []

    def rebuild(self, second: int) -> None:
        """Headers for this second: Age counts from the upstream's last confirmation."""
        age = str(max(0, second - int(self.validated_at)))
        # A 304 carries what RFC 9110 (15.4.5) lists for it: the ETag makes Last-Modified redundant there.
        common = [("cache-control", self.cache_control), ("vary", "Accept-Encoding"), ("age", age)]
        self.headers_304 = [("etag", self.etag), *common]
        self.headers_304_gzip = [("etag", self.etag_gzip), *common]
        modified = ("last-modified", self.last_modified)
        self.headers_200 = [("content-type", self.version.content_type), modified, *self.headers_304]
        self.headers_200_gzip = [
            ("content-type", self.version.content_type),
            ("content-encoding", "gzip"),
            modified,
            *self.headers_304_gzip,
        ]
        self.second = second


class Miss:
    __slots__ = ("key", "reason", "status", "until")

    def __init__(self, key: str, status: int, reason: str, until: float) -> None:
        self.key, self.status, self.reason, self.until = key, status, reason, until


class WorkerApp:
    """The RSGI application (``__rsgi_init__`` connects to the fetcher before the first request)."""

    def __init__(self) -> None:
        self.table: AccessTable | None = None
        self.documents: dict[str, Document] = {}
        self.misses: dict[str, Miss] = {}
        self.pending: dict[str, asyncio.Future[Document | Miss]] = {}
        self.replies: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        self.responses: dict[int, int] = {}
        self.unknown_refused = 0
        self.unknown_rate_limited = 0
        self._keys: dict[str, str | None] = {}
        self._peers: dict[str, str] = {}
        self._gzip: dict[str, bool] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._next_reply = 0
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self.configure({})

    def configure(self, config: dict[str, Any]) -> None:
        workers = max(1, int(config.get("workers", 1)))
        self.cache_control = f"max-age={int(config.get('refresh', 10))}"
        self.trusted = frozenset(config.get("trusted_proxies", ()))
        # Judged by the TCP peer only: a trusted reverse proxy's own address does not admit its clients.
        self.ops_allowed = frozenset(config.get("metrics_allow", ()))
        token = config.get("metrics_token")
        self.ops_authorization = f"Bearer {token}".encode() if token else None
        self.want_timeout = float(config.get("want_timeout", 15.0))
        self.max_pending = int(config.get("max_pending", 1000))
        # Each worker sees its share of a client's connections (the kernel spreads them), so its share of the rate.
        rate, burst = float(config.get("rate", 10.0)), float(config.get("burst", 50.0))
        self.buckets = TokenBuckets(rate / workers, max(1.0, burst / workers))

    # --- the connection to the fetcher ----------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(60)
        sock.connect(os.environ[IPC_ENVIRONMENT])
        while True:  # hello, snapshot, every cached document, ready: the worker starts complete
            header, payload = read_message_blocking(sock)
            if header["op"] == "ready":
                break
            self._handle(header, payload)
        sock.setblocking(False)
        self._tasks.append(loop.create_task(self._listen(sock)))
        self._tasks.append(loop.create_task(self._flush_every(1.0)))

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._closing = True
        self._flush()
        for task in self._tasks:
            task.cancel()

    async def _listen(self, sock: socket.socket) -> None:
        reader, self._writer = await asyncio.open_unix_connection(sock=sock)
        try:
            while True:
                header, payload = await read_message(reader)
                self._handle(header, payload)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._writer = None
            for key, future in list(self.pending.items()):
                if not future.done():
                    future.set_result(Miss(key, 503, "fetcher_gone", 0.0))
            if not self._closing:  # the fetcher is gone: no more refreshes, so stop serving altogether
                os.kill(os.getppid(), signal.SIGTERM)

    def _handle(self, header: dict[str, Any], payload: bytes) -> None:
        op = header["op"]
        if op == "doc":
            version = Version.from_meta(header["meta"], payload)
            document = Document(version, header["validated_at"], self.cache_control)
            self.documents[version.key] = document
            self.misses.pop(version.key, None)
            self._settle(version.key, document)
        elif op == "fresh":
            document = self.documents.get(header["key"])
            if document is not None:
                document.validated_at = header["validated_at"]
                document.second = -1
        elif op == "missing":
            miss = Miss(header["key"], header["status"], header["reason"], header["until"])
            self.misses[miss.key] = miss
            self._settle(miss.key, miss)
        elif op == "snapshot":
            self._flush()  # counts so far belong to the old table's clients
            self.table = AccessTable(header["table"], now=_time())
        elif op == "reply":
            future = self.replies.pop(header["id"], None)
            if future is not None and not future.done():
                future.set_result((header, payload))
        elif op == "hello":
            self.configure(header["config"])

    def _settle(self, key: str, result: Document | Miss) -> None:
        future = self.pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(result)

    def _send(self, header: dict[str, Any]) -> bool:
        if self._writer is None:
            return False
        self._writer.write(encode(header))
        return True

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self._flush()

    def _flush(self) -> None:
        """Send the counts since the last flush to the fetcher, which adds them up for all workers."""
        table = self.table
        clients = [c for c in (client.take_counts() for client in table.clients.values()) if c] if table else []
        if not (clients or self.responses or self.unknown_refused or self.unknown_rate_limited):
            return
        delta = {
            "op": "stats",
            "clients": clients,
            "unknown_refused": self.unknown_refused,
            "unknown_rate_limited": self.unknown_rate_limited,
            "responses": {str(status): count for status, count in self.responses.items()},
        }
        if self._send(delta):
            self.responses = {}
            self.unknown_refused = self.unknown_rate_limited = 0

    async def _want(self, key: str, now: float) -> Document | Miss:
        """Ask the fetcher for a document this worker lacks; concurrent askers share one question."""
        miss = self.misses.get(key)
        if miss is not None and miss.until > now:
            return miss
        future = self.pending.get(key)
        if future is None:
            if len(self.pending) >= self.max_pending or not self._send({"op": "want", "key": key}):
                return Miss(key, 503, "busy", 0.0)
            loop = asyncio.get_running_loop()
            future = self.pending[key] = loop.create_future()
            # A timer, not wait_for: granian's Rust task implementation runs handlers outside asyncio tasks.
            loop.call_later(self.want_timeout, self._expire, key, future)
        return await future

    def _expire(self, key: str, future: asyncio.Future[Document | Miss]) -> None:
        if self.pending.get(key) is future:
            self._settle(key, Miss(key, 504, "timeout", 0.0))

    async def _report(self, what: str) -> tuple[dict[str, Any], bytes]:
        self._flush()
        self._next_reply += 1
        number = self._next_reply
        loop = asyncio.get_running_loop()
        future = self.replies[number] = loop.create_future()
        if not self._send({"op": "report", "id": number, "what": what}):
            del self.replies[number]
            raise ConnectionError("the fetcher is gone")
        loop.call_later(10.0, self._give_up_reply, number)
        header, payload = await future
        if header.get("op") != "reply":
            raise TimeoutError
        return header, payload

    def _give_up_reply(self, number: int) -> None:
        future = self.replies.pop(number, None)
        if future is not None and not future.done():
            future.set_result(({"op": "timeout"}, b""))

    # --- requests -----------------------------------------------------------------------------------

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        client_text: str = scope.client
        peer = self._peers.get(client_text)
        if peer is None:
            peer = self._peer(client_text)
        host = peer
        if peer in self.trusted:
            forwarded = [value for name, value in scope.headers.items() if name == "x-forwarded-for"]
            host = forwarded_client(forwarded, peer, self.trusted)
        now = _time()
        table = self.table
        assert table is not None
        if now >= table.phase_until:
            table.advance(now)
        client = table.clients.get(host)
        if client is None:
            client = table.lookup(host)
        wait = self.buckets.take(host, now)
        if wait:
            return self._rate_limited(protocol, host, client, wait)
        path: str = scope.path
        if path[:5] == "/pls/" or path[:9] == "/appdata/":
            if client is None or not client.allowed:
                return self._refuse(protocol, host, client, table)
            # The hot path: a known spelling of a cached document is answered without another coroutine.
            query: str = scope.query_string
            raw = f"{path}?{query}" if query else path
            key = self._keys.get(raw, "")
            if key == "":
                key = self._key(raw, path, query)
            if key is None:
                self._count(404)
                return protocol.response_str(404, [("content-type", _TEXT)], responses.not_a_document(path))
            method = scope.method
            if method != "GET" and method != "HEAD":
                self._count(405)
                return protocol.response_str(405, [("content-type", _TEXT), ("allow", "GET, HEAD")], "GET, HEAD\n")
            document = self.documents.get(key)
            if document is None:
                found = await self._want(key, now)
                if isinstance(found, Miss):
                    return self._missing(protocol, client, found, now)
                document = found
            return self._answer(scope.headers, protocol, client, document, method, now)
        if path == "/whoami":
            return self._whoami(scope, protocol, host, peer, client, table, now)
        if path in ("/healthz", "/metrics", "/stats.json"):
            return await self._ops(scope, protocol, peer, path)
        self._count(404)
        protocol.response_str(404, [("content-type", _TEXT)], responses.not_a_document(path))

    def _peer(self, client_text: str) -> str:
        """The peer address in granian's ``host:port`` (``[v6]:port``), remembered per connection spelling."""
        peer = client_text[: client_text.rfind(":")]
        if peer[:1] == "[":
            peer = peer[1:-1]
        if peer[:7] == "::ffff:" and "." in peer:
            # An IPv4 client of a dual-stack listener: named, counted and answered as the IPv4 address.
            peer = peer[7:]
        if len(self._peers) > 20_000:
            self._peers.clear()
        self._peers[client_text] = peer
        return peer

    def _missing(self, protocol: Any, client: Client, miss: Miss, now: float) -> None:
        self._count(miss.status)
        client.requests += 1
        client.last_seen = now
        protocol.response_str(
            miss.status,
            [("content-type", _TEXT), ("cache-control", "no-store")],
            responses.unavailable(miss.key, miss.status),
        )

    def _answer(self, headers: Any, protocol: Any, client: Client, document: Document, method: str, now: float) -> None:
        """200 or 304 for a cached document: the validators, the encoding, the counters."""
        second = int(now)
        if document.second != second:
            document.rebuild(second)
        gzip = False
        if document.gzip_body is not None:
            accept = headers.get("accept-encoding")
            if accept is not None:
                gzip = self._gzip.get(accept)
                if gzip is None:
                    gzip = self._accepts_gzip(accept)
        client.requests += 1
        client.last_seen = now
        counts = self.responses
        match = headers.get("if-none-match")
        if match is not None:
            fresh = match == document.etag or match == document.etag_gzip or _etag_listed(match, document)
        else:
            since = headers.get("if-modified-since")
            fresh = since is not None and (since == document.last_modified or _not_modified_since(since, document))
        if fresh:
            client.not_modified += 1
            counts[304] = counts.get(304, 0) + 1
            return protocol.response_empty(304, document.headers_304_gzip if gzip else document.headers_304)
        counts[200] = counts.get(200, 0) + 1
        if gzip:
            body = document.gzip_body
            response_headers = document.headers_200_gzip
        else:
            body = document.body
            response_headers = document.headers_200
        if method == "GET":
            client.bytes += len(body)
        protocol.response_bytes(200, response_headers, body)

    def _key(self, raw: str, path: str, query: str) -> str | None:
        try:
            key: str | None = document_key(path, query)
        except NotADocument:
            key = None
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[raw] = key
        return key

    def _accepts_gzip(self, accept: str) -> bool:
        accepted = False
        for part in accept.lower().split(","):
            coding, _, parameters = part.partition(";")
            if coding.strip() in ("gzip", "x-gzip", "*"):
                quality = parameters.strip().removeprefix("q=").strip()
                try:
                    accepted = not parameters.strip() or float(quality) > 0
                except ValueError:
                    accepted = False
                if coding.strip() != "*" or accepted:
                    break
        if len(self._gzip) > 1000:
            self._gzip.clear()
        self._gzip[accept] = accepted
        return accepted

    def _count(self, status: int) -> None:
        self.responses[status] = self.responses.get(status, 0) + 1

    def _refuse(self, protocol: Any, host: str, client: Client | None, table: AccessTable) -> None:
        if client is None:
            self.unknown_refused += 1
        else:
            client.refused += 1
        self._count(403)
        protocol.response_str(
            403, [("content-type", _TEXT), ("cache-control", "no-store")], responses.refusal(host, client, table)
        )

    def _rate_limited(self, protocol: Any, host: str, client: Client | None, wait: float) -> None:
        if client is None:
            self.unknown_rate_limited += 1
        else:
            client.rate_limited += 1
        self._count(429)
        seconds = retry_after(wait)
        protocol.response_str(
            429, [("content-type", _TEXT), ("retry-after", seconds)], responses.too_many(host, seconds)
        )

    def _whoami(
        self, scope: Any, protocol: Any, host: str, peer: str, client: Client | None, table: AccessTable, now: float
    ) -> None:
        info = responses.whoami(host, peer, client, table, now)
        accept = scope.headers.get("accept") or ""
        self._count(200)
        headers = [("cache-control", "no-store")]
        if "text/plain" in accept and "json" not in accept:
            protocol.response_str(200, [("content-type", _TEXT), *headers], responses.whoami_text(info))
        else:
            protocol.response_str(200, [("content-type", responses.JSON), *headers], responses.whoami_json(info))

    async def _ops(self, scope: Any, protocol: Any, peer: str, path: str) -> None:
        if not may_read_operations(peer, self.ops_allowed):
            self._count(403)
            return protocol.response_str(403, [("content-type", _TEXT)], responses.ops_only(peer))
        if self.ops_authorization is not None and path != "/healthz":
            given = (scope.headers.get("authorization") or "").encode()
            if not hmac.compare_digest(given, self.ops_authorization):
                self._count(401)
                return protocol.response_str(
                    401, [("content-type", _TEXT), ("www-authenticate", "Bearer")], responses.ops_token()
                )
        try:
            header, payload = await self._report(path.lstrip("/"))
        except (TimeoutError, ConnectionError):
            self._count(503)
            return protocol.response_str(503, [("content-type", _TEXT)], "fetcher unavailable\n")
        self._count(header.get("status", 200))
        protocol.response_bytes(
            header.get("status", 200),
            [("content-type", header["content_type"]), ("cache-control", "no-store")],
            payload,
        )


def _etag_listed(header: str, document: Document) -> bool:
    """Weak comparison against a list (RFC 9110 If-None-Match): either encoding's tag matches."""
    if header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag == document.etag or tag == document.etag_gzip:
            return True
    return False


def _not_modified_since(header: str, document: Document) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return document.modified_at <= since


app = WorkerApp()
