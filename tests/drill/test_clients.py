"""The drill clients' checks of an answer, without a network: what counts as a malformed document."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from drill.bodycheck import BodyCheck, check_body
from drill.clients import Answer, read_answer
from drill.network import server_address_for
from drill.plan import SERVER_ADDRESSES

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<VYSLEDKY xmlns="http://www.volby.cz/prezident/"><CR/></VYSLEDKY>\n'

# --- the body checks, without a network --------------------------------------------------------------------


def answer(raw: bytes) -> Answer:
    async def read() -> Answer:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await read_answer(reader)

    return asyncio.run(read())


def http(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def test_good_xml_passes_plain_gzipped_and_in_small_pieces() -> None:
    assert check_body(XML) is None
    assert check_body(gzip.compress(XML), gzip=True) is None
    check = BodyCheck(gzip=True)
    for byte in gzip.compress(XML):
        check.feed(bytes([byte]))
    assert check.finish() is None
    assert check.root == "VYSLEDKY"


@pytest.mark.parametrize(
    ("body", "encoded", "reason"),
    [
        (XML[:-20], False, "xml:"),  # cut off
        (b"", False, "xml:"),
        (b"<!DOCTYPE html>\n<html><body>503</body></html>", False, "HTML"),
        (b"<!DOCTYPE VYSLEDKY SYSTEM 'x.dtd'><VYSLEDKY/>", False, "DOCTYPE"),
        (b"<html><body><p>Service Unavailable</p></body></html>", False, "HTML"),
        (b'<h:html xmlns:h="http://www.w3.org/1999/xhtml"/>', False, "HTML"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', False, "DOCTYPE"),
        (b"<VYSLEDKY>&undefined;</VYSLEDKY>", False, "xml:"),
        (b"not xml at all", False, "xml:"),
        (b"\x1f\x8b\x08\x00garbage-garbage", True, "gzip:"),
        (XML, True, "gzip:"),  # said gzip, is not
        (gzip.compress(XML)[:-10], True, "gzip:"),  # a truncated gzip stream
        (gzip.compress(XML) + b"trailing", True, "gzip:"),
        (gzip.compress(b"<html><body>oops</body></html>"), True, "HTML"),
    ],
)
def test_malformed_bodies_are_named(body: bytes, encoded: bool, reason: str) -> None:
    problem = check_body(body, gzip=encoded)
    assert problem is not None and reason in problem


def test_read_answer_checks_length_chunks_and_encoding() -> None:
    good = answer(http(XML, f"Content-Length: {len(XML)}", 'ETag: "1"'))
    assert (good.status, good.malformed, good.body_bytes, good.headers["etag"]) == (200, None, len(XML), '"1"')

    truncated = answer(http(XML[:40], f"Content-Length: {len(XML)}"))
    assert truncated.malformed is not None and truncated.malformed.startswith("incomplete")

    packed = gzip.compress(XML)
    assert answer(http(packed, f"Content-Length: {len(packed)}", "Content-Encoding: gzip")).malformed is None
    garbage = b"\x1f\x8b" + b"x" * 30
    assert "gzip" in (answer(http(garbage, "Content-Length: 32", "Content-Encoding: gzip")).malformed or "")

    chunked = b"".join(b"%x\r\n%s\r\n" % (len(XML[i : i + 7]), XML[i : i + 7]) for i in range(0, len(XML), 7))
    assert answer(http(chunked + b"0\r\n\r\n", "Transfer-Encoding: chunked")).malformed is None
    assert "incomplete" in (answer(http(chunked, "Transfer-Encoding: chunked")).malformed or "")

    html = b"<html><body>maintenance</body></html>"
    assert "HTML" in (answer(http(html, f"Content-Length: {len(html)}")).malformed or "")
    assert answer(http(XML[:50])).malformed is not None  # delimited by the connection's end, cut short

    refused = answer(
        http(b"Address 192.0.2.9 is not on the allowlist.\n", "Content-Length: 43", status="403 Forbidden")
    )
    assert (refused.status, refused.malformed, refused.text) == (
        403,
        None,
        "Address 192.0.2.9 is not on the allowlist.",
    )
    assert answer(http(b"", 'ETag: "1"', status="304 Not Modified")).status == 304


def test_server_address_for_each_network() -> None:
    assert server_address_for("192.0.2.7") == "192.0.2.254"
    assert server_address_for("203.0.113.1") == "203.0.113.254"
    assert server_address_for("2001:db8:1::7") == SERVER_ADDRESSES[3]
    with pytest.raises(ValueError, match="in none of the drill's client networks"):
        server_address_for("10.0.0.1")
