"""The compiled access table: phases from allowlist.phase, lookups, forwarded-for."""

from __future__ import annotations

from allowlist.phase import Phase
from feedproxy.access import AccessTable, canonical_address, forwarded_client, may_read_operations

T0 = 1_700_000_000.0
TABLE = {
    "election": "prez2028",
    "version": 3,
    "generated_at": "2027-12-01T00:00:00+00:00",
    "closes_at": T0 + 1000,
    "live_windows": [[1, T0 + 100, T0 + 200], [2, T0 + 500, T0 + 600]],
    "entries": [
        ["198.51.100.7", "production", 4, "Deník"],
        ["2001:db8::7", "test", 4, "Deník"],
    ],
}


def allowed(table: AccessTable, address: str) -> bool:
    client = table.lookup(address)
    return client is not None and client.allowed


def test_phases_and_who_is_allowed_in_each() -> None:
    table = AccessTable(TABLE, now=T0)
    expected = [
        (T0, Phase.TESTING, True, True),
        (T0 + 100, Phase.LIVE, True, False),
        (T0 + 199.999, Phase.LIVE, True, False),
        (T0 + 200, Phase.TESTING, True, True),
        (T0 + 550, Phase.LIVE, True, False),
        (T0 + 1000, Phase.CLOSED, False, False),
    ]
    for at, phase, production, test in expected:
        table.advance(at)
        assert table.phase is phase, at
        assert allowed(table, "198.51.100.7") is production
        assert allowed(table, "2001:db8::7") is test
        assert allowed(table, "203.0.113.1") is False


def test_next_change_skips_to_a_different_phase() -> None:
    table = AccessTable(TABLE, now=T0)
    assert table.next_change(T0) == (Phase.LIVE, T0 + 100)
    assert table.next_change(T0 + 150) == (Phase.TESTING, T0 + 200)
    assert table.next_change(T0 + 700) == (Phase.CLOSED, T0 + 1000)
    assert table.next_change(T0 + 2000) is None


def test_lookup_normalises_spellings_once() -> None:
    table = AccessTable(TABLE, now=T0)
    assert table.lookup("2001:0db8:0000::0007") is table.clients["2001:db8::7"]
    assert table.lookup("::ffff:198.51.100.7") is table.clients["198.51.100.7"]
    assert table.lookup("not an address") is None
    assert canonical_address("[2001:DB8::7]") == "2001:db8::7"


def test_forwarded_for_rightmost_untrusted() -> None:
    trusted = frozenset({"10.0.0.1", "10.0.0.2"})
    assert forwarded_client(["198.51.100.7"], "10.0.0.1", trusted) == "198.51.100.7"
    assert forwarded_client(["203.0.113.5, 198.51.100.7, 10.0.0.2"], "10.0.0.1", trusted) == "198.51.100.7"
    assert forwarded_client(["198.51.100.7", "10.0.0.2"], "10.0.0.1", trusted) == "198.51.100.7"  # two headers
    assert forwarded_client(["::ffff:198.51.100.7"], "10.0.0.1", trusted) == "198.51.100.7"
    assert forwarded_client([], "10.0.0.1", trusted) == "10.0.0.1"
    assert forwarded_client(["unknown, 198.51.100.7"], "10.0.0.1", trusted) == "198.51.100.7"
    assert forwarded_client(["198.51.100.7, garbage"], "10.0.0.1", trusted) == "garbage"


def test_operations_endpoints_are_for_the_named_addresses_only() -> None:
    allowed_set = frozenset({"192.0.2.10", "2001:db8::10"})
    assert not may_read_operations("127.0.0.1", allowed_set)  # loopback too only when listed (the default list)
    assert not may_read_operations("::1", allowed_set)
    assert may_read_operations("127.0.0.1", frozenset({"127.0.0.1", "::1"}))
    assert may_read_operations("192.0.2.10", allowed_set)
    assert may_read_operations("2001:DB8::10", allowed_set)
    assert not may_read_operations("198.51.100.7", allowed_set)
