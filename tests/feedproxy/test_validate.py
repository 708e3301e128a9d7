"""Which upstream bodies may replace a cached document."""

from __future__ import annotations

import pytest

from feedproxy.documents import make_version
from feedproxy.validate import Rejected, check_document, is_xml_content_type
from tests.realdata import volby, volby_documents

ISO_8859_2 = volby("kv2018/batches/vysledky_okrsky_davka_033.xml")


def refusal(body: bytes, **options: object) -> str:
    with pytest.raises(Rejected) as caught:
        check_document(body, max_bytes=int(options.pop("max_bytes", 10_000_000)), **options)  # type: ignore[arg-type]
    return caught.value.reason


def test_every_real_document_is_accepted_with_its_root() -> None:
    documents = volby_documents()
    assert len(documents) == 47  # tests/data/volby/MANIFEST.md: every root and encoding of the upstream set
    roots = {check_document(volby(name), max_bytes=10_000_000) for name in documents}
    assert {"VYSLEDKY", "VYSLEDKY_OKRSKY", "VYSLEDKY_OKRES", "EP_RKL"} <= roots
    assert {"VYSLEDKY_OBCE_OKRES", "VYSLEDKY_OBEC", "VYSLEDKY_KANDID", "VYSLEDKY_KRAJMESTA"} <= roots
    assert {"KZ_RKL", "KZ_RKL_SOUHRN"} <= roots


@pytest.mark.parametrize("cut", [1, 40, 1000, 50_000, -20, -3])
def test_a_truncated_document_is_refused(cut: int) -> None:
    body = ISO_8859_2
    assert refusal(body[:cut]) == "truncated"


def test_html_is_refused_even_well_formed_and_namespaced() -> None:
    assert refusal(b"<html><body><p>Server busy</p></body></html>") == "html"
    assert refusal(b'<x:HTML xmlns:x="http://www.w3.org/1999/xhtml"/>') == "html"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE VYSLEDKY SYSTEM "v.dtd"><VYSLEDKY/>',
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>',
        b'<!DOCTYPE a [<!ENTITY ext SYSTEM "file:///etc/passwd">]><a>&ext;</a>',
    ],
)
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    assert refusal(body) == "dtd"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"garbage", "malformed"),
        (b"<a></a><b></b>", "malformed"),
        (b"<a>\xff\xfe</a>", "malformed"),
        (b'<?xml version="1.0" encoding="x-unknown"?><a/>', "malformed"),
    ],
)
def test_other_bad_bodies(body: bytes, reason: str) -> None:
    assert refusal(body) == reason


def test_size_cap_and_root_change() -> None:
    body = ISO_8859_2
    assert refusal(body, max_bytes=len(body) - 1) == "too_large"
    assert check_document(body, max_bytes=len(body), expected_root="VYSLEDKY_OKRSKY") == "VYSLEDKY_OKRSKY"
    assert refusal(body, expected_root="VYSLEDKY") == "root_changed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text/xml", True),
        ("text/xml; charset=ISO-8859-2", True),
        ("application/xml", True),
        ("application/atom+xml", True),
        ("text/html", False),
        ("text/plain", False),
        ("", False),
        (None, False),
    ],
)
def test_xml_content_types(value: str | None, expected: bool) -> None:
    assert is_xml_content_type(value) is expected


def test_a_version_keeps_a_valid_upstream_last_modified_only() -> None:
    body = ISO_8859_2
    kept = make_version(
        "/pls/x/y", body, "text/xml", "VYSLEDKY_OKRSKY", last_modified="Sat, 06 Oct 2018 14:34:00 GMT", now=0
    )
    assert kept.last_modified == "Sat, 06 Oct 2018 14:34:00 GMT"
    replaced = make_version("/pls/x/y", body, "text/xml", "VYSLEDKY_OKRSKY", last_modified="yesterday", now=0)
    assert replaced.last_modified == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert replaced.etag != replaced.etag_gzip and replaced.gzip_body is not None
