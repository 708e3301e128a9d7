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
