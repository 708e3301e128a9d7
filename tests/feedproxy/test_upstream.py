"""One fetch against a real HTTP server that misbehaves in each way the proxy must survive."""

from __future__ import annotations

import re

import pytest

from feedproxy.upstream import Upstream, fetch
from tests.feedproxy.fakes import FakeUpstream
from tests.realdata import volby

BODY = volby("kv2018/batches/vysledky_okrsky_davka_003.xml")


def upstream_of(server: FakeUpstream) -> Upstream:
    return Upstream.parse(server.url)


def test_a_good_answer_and_then_304(upstream: FakeUpstream) -> None:
    upstream.put("/pls/u/good", BODY, "text/xml; charset=iso-8859-2")
    first = fetch(upstream_of(upstream), "/pls/u/good")
    assert (first.outcome, first.status, first.body, first.root) == ("ok", 200, BODY, "VYSLEDKY_OKRSKY")
    assert first.content_type == "text/xml; charset=iso-8859-2"
    again = fetch(upstream_of(upstream), "/pls/u/good", etag=first.etag)
    assert (again.outcome, again.status, again.body) == ("not_modified", 304, b"")


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ("truncated", "truncated"),
        ("short_length", "truncated"),
        ("chunked_cut", "truncated"),
        ("garbage", "malformed"),
        ("html", "html"),
        ("dtd", "dtd"),
        ("status500", "status"),
        ("reset", "connection"),
    ],
)
def test_faults(upstream: FakeUpstream, fault: str, outcome: str) -> None:
    key = f"/pls/u/{fault}"
    upstream.put(key, BODY)
    upstream.faults[key] = fault
    result = fetch(upstream_of(upstream), key, timeout=2)
    assert result.outcome == outcome
    assert result.failed


def test_a_hanging_upstream_times_out(upstream: FakeUpstream) -> None:
    upstream.put("/pls/u/slow", BODY)
    upstream.faults["/pls/u/slow"] = "slow"
    assert fetch(upstream_of(upstream), "/pls/u/slow", timeout=0.3).outcome == "timeout"


def test_not_found_wrong_type_and_nobody_listening(upstream: FakeUpstream) -> None:
    assert fetch(upstream_of(upstream), "/pls/u/nothing").outcome == "not_found"
    upstream.put("/pls/u/html-type", BODY, "text/html")
    assert fetch(upstream_of(upstream), "/pls/u/html-type").outcome == "content_type"
    upstream.put("/pls/u/big", BODY)
    assert fetch(upstream_of(upstream), "/pls/u/big", max_bytes=1000).outcome == "too_large"
    assert fetch(Upstream("127.0.0.1", 1), "/pls/u/good", timeout=1).outcome == "connection"


def test_upstream_urls() -> None:
    assert Upstream.parse("http://volby.example:8080/media/") == Upstream("volby.example", 8080, "/media")
    for bad, why in (
        ("ftp://x/", "is not an http:// URL"),
        ("http:///x", "is not an http:// URL"),
        ("http://x/?a=1", "takes no query or fragment"),
    ):
        with pytest.raises(ValueError, match=re.escape(why)):
            Upstream.parse(bad)
