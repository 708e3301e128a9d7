"""The agent's HTTP client: one request to the portal with the standard library, any status an answer.

Redirects are not followed (the token goes to the configured portal only), the body is read up to a limit
and checked against ``Content-Length``; a missing or partial answer is a ``TransportError``. The agent takes
a ``Send`` so that its tests can answer without a network.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

HTTP_TIMEOUT_SECONDS = 10.0
#: A snapshot of 10,000 addresses is about 1.5 MiB; anything past this is not a snapshot.
MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    #: lower-case names
    headers: Mapping[str, str]
    body: bytes


class TransportError(Exception):
    """No usable HTTP answer. ``answered``: the portal did answer (the body was cut short or too large)."""

    def __init__(self, code: str, detail: str, *, answered: bool) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.answered = answered

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


#: ``send(method, url, headers, body) -> HttpResponse``, raising TransportError.
Send = Callable[[str, str, Mapping[str, str], bytes | None], HttpResponse]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: the token goes to the configured portal only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def urllib_send(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    *,
    timeout: float = HTTP_TIMEOUT_SECONDS,
    limit: int = MAX_BODY_BYTES,
) -> HttpResponse:
    """One request with the stdlib; any status is an answer (304 and 500 included), the body at most ``limit``."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise TransportError("scheme", f"{url} is neither http nor https", answered=False)
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - the scheme is checked above
    for name, value in headers.items():
        request.add_unredirected_header(name, value)
    try:
        response = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:  # a non-2xx status: still an answer
        response = error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        raise TransportError("unreachable", f"{method} {url}: {reason}", answered=False) from error
    with response:
        data = _read_limited(response, limit)
        return HttpResponse(response.status, {k.lower(): v for k, v in response.headers.items()}, data)


def _read_limited(response: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise TransportError("too_large", f"the answer exceeds {limit} bytes", answered=True)
            chunks.append(chunk)
    except (http.client.IncompleteRead, OSError) as error:
        raise TransportError(
            "incomplete", f"the answer broke off after {size} bytes: {error!r}", answered=True
        ) from error
    data = b"".join(chunks)
    length = response.headers.get("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) != len(data):
        raise TransportError("incomplete", f"the answer has {len(data)} of {int(length)} bytes", answered=True)
    return data
