"""One conditional GET of a feed document from the upstream, checked while it streams in.

Blocking (``http.client``), run in the fetcher's thread pool: the standard library parses HTTP/1.1,
chunked bodies and short reads, and a deadline over the whole exchange stops a slow drip as well as
a hang. The outcome is never an exception: ``Fetched`` says what happened and why.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedproxy.validate import DocumentCheck, Rejected, is_xml_content_type

#: Outcomes that are not a new or confirmed document; with validate.REASONS, the metrics' reasons.
FAILURES: tuple[str, ...] = ("timeout", "connection", "not_found", "status")
USER_AGENT = "csu-feedproxy/1"


@dataclass(frozen=True)
class Upstream:
    """Where documents come from: ``http://host:port/prefix`` (the document key is appended)."""

    host: str
    port: int
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r}: the upstream URL takes no query or fragment")
        return cls(parts.hostname, parts.port or 80, parts.path.rstrip("/"))


@dataclass(frozen=True)
class Fetched:
    """``outcome``: ``ok`` (body checked), ``not_modified`` (304) or a failure reason."""

    outcome: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    root: str | None = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome not in ("ok", "not_modified")


def fetch(
    upstream: Upstream,
    key: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    expected_root: str | None = None,
    timeout: float = 5.0,
    max_bytes: int = 16 * 1024 * 1024,
) -> Fetched:
    """GET ``key`` (a document key: path and normalised query) within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=timeout)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Accept": "text/xml, application/xml"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        connection.request("GET", upstream.prefix + key, headers=headers)
        _remaining(connection, deadline)
        response = connection.getresponse()
        return _read(response, connection, deadline, expected_root, max_bytes)
    except Rejected as refusal:
        return Fetched(refusal.reason, detail=refusal.detail)
    except TimeoutError:
        return Fetched("timeout", detail=f"no complete answer within {timeout:g} s")
    except http.client.IncompleteRead as error:
        return Fetched("truncated", detail=f"connection closed after {len(error.partial)} bytes of a chunk")
    except (OSError, http.client.HTTPException) as error:
        return Fetched("connection", detail=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def _remaining(connection: http.client.HTTPConnection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(left)


def _read(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    deadline: float,
    expected_root: str | None,
    max_bytes: int,
) -> Fetched:
    status = response.status
    etag = response.getheader("ETag")
    last_modified = response.getheader("Last-Modified")
    if status == 304:
        return Fetched("not_modified", status, etag=etag, last_modified=last_modified)
    if status != 200:
        outcome = "not_found" if status in (404, 410) else "status"
        return Fetched(outcome, status, detail=f"HTTP {status}")
    content_type = response.getheader("Content-Type") or ""
    if not is_xml_content_type(content_type):
        raise Rejected("content_type", f"Content-Type {content_type!r}")
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise Rejected("encoding", f"Content-Encoding {encoding!r}")
    declared = response.length
    if declared is not None and declared > max_bytes:
        raise Rejected("too_large", f"Content-Length {declared}")
    check = DocumentCheck(max_bytes=max_bytes, expected_root=expected_root)
    chunks: list[bytes] = []
    while True:
        _remaining(connection, deadline)
        chunk = response.read1(65536)
        if not chunk:
            break
        check.feed(chunk)
        chunks.append(chunk)
    body = b"".join(chunks)
    if declared is not None and len(body) < declared:
        raise Rejected("truncated", f"{len(body)} of {declared} bytes")
    root = check.close()
    return Fetched("ok", status, body, content_type, etag, last_modified, root)
