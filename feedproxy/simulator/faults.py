"""Fault injection: the upstream misbehaving in the ways a caching proxy must never pass on.

A ``FaultRule`` replaces the next ``count`` answers (or every answer for ``for_seconds``) on matching
paths with one of:

- ``truncated``: the document cut mid-element, with a Content-Length that fits the cut body;
- ``short``: the full Content-Length announced, half the body sent, then the connection closed;
- ``garbage``: status 200, ``text/xml``, random bytes;
- ``html``: status 200 and a well-formed HTML error page (a web cache's "service unavailable");
- ``status500``: status 500 with an HTML error page;
- ``slow``: the right answer, after ``seconds``;
- ``reset``: the connection reset (TCP RST) without an answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

from feedproxy.simulator.counting import rng

KINDS = ("truncated", "short", "garbage", "html", "status500", "slow", "reset")

HTML_PAGE = b"""<!DOCTYPE html>
<html lang="cs">
<head><meta charset="utf-8"/><title>503 Service Unavailable</title></head>
<body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your request. Please try again later.</p>
</body>
</html>
"""
ERROR_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"/><title>500 Internal Server Error</title></head>
<body><h1>Internal Server Error</h1><p>ORA-06502: PL/SQL: numeric or value error</p></body>
</html>
"""


class FaultError(ValueError):
    """A fault specification that cannot be used; ``field`` names the offending key."""

    def __init__(self, field_: str, detail: str) -> None:
        super().__init__(f"{field_}: {detail}")
        self.field = field_
        self.detail = detail


@dataclass
class FaultRule:
    kind: str
    #: Answers still to spoil; None = no limit (then ``for_seconds`` should bound the rule).
    count: int | None = 1
    #: Which requests: an exact path, ``path?query``, or a prefix ending in ``*``; None = every document.
    path: str | None = None
    #: ``slow``: seconds before the answer.
    seconds: float = 5.0
    #: Chance that a matching request is spoilt (a spared request does not use up ``count``).
    probability: float = 1.0
    #: ``html``: the Content-Type to claim instead of text/html (e.g. ``text/xml``).
    content_type: str | None = None
    #: The rule lapses this many seconds after it was added.
    for_seconds: float | None = None
    id: int = 0
    expires: float | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FaultRule:
        """Validate a control-API body (``{"kind": "truncated", "count": 3, ...}``)."""
        known = {"kind", "count", "path", "seconds", "probability", "content_type", "for_seconds"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultError(unknown[0], "unknown field")
        kind = data.get("kind")
        if kind not in KINDS:
            raise FaultError("kind", f"one of {', '.join(KINDS)}")
        count = data.get("count", 1)
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise FaultError("count", "a positive integer or null")
        for_seconds = _number(data, "for_seconds", None)
        if count is None and for_seconds is None:
            raise FaultError("count", "null needs for_seconds")
        path = data.get("path")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise FaultError("path", "a path starting with /")
        content_type = data.get("content_type")
        if content_type is not None and not isinstance(content_type, str):
            raise FaultError("content_type", "a string")
        probability = _number(data, "probability", 1.0)
        if probability is None or not 0 < probability <= 1:
            raise FaultError("probability", "in (0, 1]")
        seconds = _number(data, "seconds", 5.0)
        if seconds is None or seconds < 0:
            raise FaultError("seconds", "not negative")
        return cls(str(kind), count, path, seconds, probability, content_type, for_seconds)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        del data["expires"]
        return data

    def matches(self, path: str, query: str) -> bool:
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return f"{path}?{query}".startswith(self.path[:-1])
        if "?" in self.path:
            return self.path == f"{path}?{query}"
        return self.path == path


def _number(data: Mapping[str, object], key: str, default: float | None) -> float | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(key, "a number")
    return float(value)


class FaultBook:
    """The pending rules, first added first applied; safe to share between request threads."""

    def __init__(self, seed: int | str = 0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._random = rng(seed, "faults")
        self._monotonic = monotonic

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            if rule.for_seconds is not None:
                rule.expires = self._monotonic() + rule.for_seconds
            self._rules.append(rule)
            return rule

    def take(self, path: str, query: str) -> FaultRule | None:
        """The rule that spoils this request, if any; uses up one of its answers."""
        with self._lock:
            now = self._monotonic()
            self._rules = [r for r in self._rules if r.expires is None or r.expires > now]
            for rule in self._rules:
                if not rule.matches(path, query):
                    continue
                if rule.probability < 1 and self._random.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                return rule
            return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            now = self._monotonic()
            return [r.to_json() for r in self._rules if r.expires is None or r.expires > now]


def truncate(body: bytes) -> bytes:
    """The body cut a few characters into the first element that starts past the middle."""
    cut = body.find(b"<", len(body) // 2)
    if cut < 0 or cut + 4 >= len(body):
        cut = max(1, len(body) // 2) - 4
    return body[: max(1, cut + 4)]


def garbage(seed: int | str, serial: int, size: int = 2048) -> bytes:
    return rng(seed, "garbage", serial).randbytes(size)
