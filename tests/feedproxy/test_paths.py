"""Which paths name documents, and their one spelling."""

from __future__ import annotations

import pytest

from feedproxy.paths import NotADocument, document_key


@pytest.mark.parametrize(
    ("path", "query", "key"),
    [
        ("/pls/kv2022/vysledky", "", "/pls/kv2022/vysledky"),
        ("/pls/prez2023/vysledky_okrsky", "kolo=1&davka=7", "/pls/prez2023/vysledky_okrsky?davka=7&kolo=1"),
        ("/pls/prez2023/vysledky_okrsky", "davka=7&kolo=1", "/pls/prez2023/vysledky_okrsky?davka=7&kolo=1"),
        ("/pls/kv2018/vysledky_okrsky", "&davka=", "/pls/kv2018/vysledky_okrsky?davka="),
        ("/pls/senat/vysledky", "datum_voleb=20141010", "/pls/senat/vysledky?datum_voleb=20141010"),
        (
            "/pls/kv2010/vysledky_obce_okres",
            "nuts=CZ0100&datumvoleb=20101015",
            "/pls/kv2010/vysledky_obce_okres?datumvoleb=20101015&nuts=CZ0100",
        ),
    ],
)
def test_documents(path: str, query: str, key: str) -> None:
    assert document_key(path, query) == key


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/pls/kv2022", ""),
        ("/pls/kv2022/vysledky/extra", ""),
        ("/pls/../etc/passwd", ""),
        ("/other/kv2022/vysledky", ""),
        ("/pls/kv2022/vysledky", "cache_buster=1"),
        ("/pls/kv2022/vysledky", "davka=1&davka=2"),
        ("/pls/kv2022/vysledky", "davka=<script>"),
        ("/pls/kv2022/vysledky", "davka=" + "1" * 300),
    ],
)
def test_not_documents(path: str, query: str) -> None:
    with pytest.raises(NotADocument):
        document_key(path, query)


@pytest.mark.parametrize(
    "path",
    [
        "/appdata/ps2025/odata/vysledky.xml",
        "/appdata/ps2025/odata/vysledky_krajmesta.xml",
        "/appdata/ps2025/odata/okrsky/vysledky_okrsky_00001.xml",
        "/appdata/ps2025/odata/okresy/vysledky_okres_CZ0100.xml",
        "/appdata/ps2025/odata/okresy_d/vysledky_okresy_3.xml",
        "/appdata/kv2026/20261009/odata/vysledky.xml",
        "/appdata/kv2026/20261009/odata/okrsky/vysledky_okrsky_00001.xml",
        "/appdata/kv2026/20261009/odata/okrsky/vysledky_okrsky.xml",
        "/appdata/kv2026/20261009/odata/zastup/vysledky_obec_500054.xml",
        "/appdata/kv2026/20261009/odata/okresy/vysledky_obce_okres_CZ0642.xml",
        "/appdata/kv2026/20261009/odata/obce_d/vysledky_obce_00002.xml",
        "/appdata/senat/20181005/odata/obvody/vysledky_obce_obvod_58.xml",
    ],
)
def test_appdata_documents_are_their_own_key(path: str) -> None:
    assert document_key(path, "") == path


@pytest.mark.parametrize(
    ("path", "query", "why"),
    [
        ("/appdata/ps2025/odata/vysledky.xml", "davka=1", "a query string on a static file"),
        ("/appdata/ps2025/odata/vysledky.xml", "x", "a query string on a static file"),
        ("/appdata/ps2025/odata/../odata/vysledky.xml", "", "a dot-dot segment"),
        ("/appdata/ps2025/../../etc/passwd.xml", "", "a dot-dot segment"),
        ("/appdata/ps2025/odata/./vysledky.xml", "", "a dot segment"),
        ("/appdata/ps2025/odata/%2e%2e/vysledky.xml", "", "percent-encoded dots"),
        ("/appdata/ps2025/odata/%2E%2E/vysledky.xml", "", "percent-encoded dots, capitals"),
        ("/appdata/ps2025/odata/okrsky%2fvysledky_okrsky_00001.xml", "", "a percent-encoded slash"),
        ("/appdata/ps2025/odata/okrsky%5cvysledky_okrsky_00001.xml", "", "a percent-encoded backslash"),
        ("/appdata/ps2025/odata/vysledky%2exml", "", "a percent-encoded dot"),
        ("/appdata/ps2025//odata/vysledky.xml", "", "an empty segment"),
        ("/appdata/ps2025/odata//vysledky.xml", "", "an empty segment before the file"),
        ("/appdata//odata/vysledky.xml", "", "an empty election"),
        ("/appdata/ps2025/odata/", "", "no file"),
        ("/appdata/ps2025/odata/okrsky/", "", "a folder, no file"),
        ("/appdata/ps2025/odata/vysledky.xml/", "", "a trailing slash"),
        ("/appdata/ps2025/odata/vysledky.xsd", "", "not an .xml file"),
        ("/appdata/ps2025/odata/vysledky", "", "no .xml suffix"),
        ("/appdata/ps2025/odata/vysledky.xml.gz", "", "a second suffix"),
        ("/appdata/ps2025/odata/okrsky/2025/vysledky_okrsky_00001.xml", "", "too deep"),
        ("/appdata/ps2025/odata/tajne/vysledky.xml", "", "a folder the office does not use"),
        ("/appdata/ps2025/data/vysledky.xml", "", "no odata segment"),
        ("/appdata/kv2026/20261309/odata/vysledky.xml", "", "month 13"),
        ("/appdata/kv2026/2026100/odata/vysledky.xml", "", "a seven-digit date"),
        ("/appdata/kv2026/20261009/20261010/odata/vysledky.xml", "", "two dates"),
        ("/appdata/PS2025/odata/vysledky.xml", "", "capitals in the election"),
        ("/appdata/ps2025/odata/vysledky xml.xml", "", "a space"),
        ("/appdata/ps2025/odata/vysledky;x=1.xml", "", "a parameter"),
        ("/appdata/ps2025/odata/" + "a" * 65 + ".xml", "", "a file name too long"),
        ("/appdata/" + "a" * 33 + "/odata/vysledky.xml", "", "an election too long"),
        ("/appdata/ps2025/odata/okrsky/" + "a" * 200 + ".xml", "", "a path too long"),
        ("/appdata/ps2025/odata/vysledky.xml\x00", "", "a NUL byte"),
        ("/appdatax/ps2025/odata/vysledky.xml", "", "another top folder"),
    ],
)
def test_appdata_refused_forms(path: str, query: str, why: str) -> None:
    with pytest.raises(NotADocument):
        document_key(path, query)
