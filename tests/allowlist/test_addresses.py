"""The one IP-address validator: every refusal code, canonical forms, the policy switches, lists."""

import ipaddress
import pickle
import random
import subprocess
import sys
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address, IPv6Network
from pathlib import Path

import pytest

from allowlist.addresses import (
    IPV4_RULES,
    IPV6_RULES,
    REFUSAL_CODES,
    AddressListRefused,
    AddressPolicy,
    AddressRefused,
    canonical_address,
    parse_address_list,
    parse_host_address,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT = AddressPolicy()
NO_IPV6 = AddressPolicy(allow_ipv6=False)
MAPPING = AddressPolicy(map_ipv4_mapped=True)
DOCS = AddressPolicy(allow_documentation=True)

#: One case per code (the test id); "duplicate" only arises in lists, see the list tests.
ONE_PER_CODE: list[tuple[str, str, AddressPolicy]] = [
    ("empty", "   ", DEFAULT),
    ("zone_id", "fe80::1%eth0", DEFAULT),
    ("junk", "1.2.3.4 x", DEFAULT),
    ("leading_zero", "01.2.3.4", DEFAULT),
    ("not_an_address", "1.2.3", DEFAULT),
    ("range", "8.8.8.0/24", DEFAULT),
    ("ipv6_disabled", "2a00:1028::1", NO_IPV6),
    ("ipv4_mapped", "::ffff:8.8.8.8", DEFAULT),
    ("unspecified", "0.0.0.0", DEFAULT),  # noqa: S104 - a value under test, nothing binds to it
    ("this_network", "0.1.2.3", DEFAULT),
    ("broadcast", "255.255.255.255", DEFAULT),
    ("loopback", "127.0.0.1", DEFAULT),
    ("private", "10.0.0.1", DEFAULT),
    ("unique_local", "fd12:3456::1", DEFAULT),
    ("cgnat", "100.64.0.1", DEFAULT),
    ("link_local", "169.254.1.1", DEFAULT),
    ("site_local", "fec0::1", DEFAULT),
    ("documentation", "192.0.2.1", DEFAULT),
    ("benchmarking", "198.18.0.1", DEFAULT),
    ("multicast", "224.0.0.1", DEFAULT),
    ("reserved", "240.0.0.1", DEFAULT),
    ("ipv4_compatible", "::8.8.8.8", DEFAULT),
    ("nat64", "64:ff9b::808:808", DEFAULT),
    ("6to4", "2002:c000:204::1", DEFAULT),
    ("teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", DEFAULT),
    ("orchid", "2001:10::1", DEFAULT),
    ("not_global", "192.0.0.9", DEFAULT),
]

#: More spellings per code, boundaries of each network and the cases that 3.11's is_global gets wrong.
MORE: list[tuple[str, str, AddressPolicy]] = [
    ("empty", "", DEFAULT),
    ("empty", "\t\r\n", DEFAULT),
    ("zone_id", "fe80::1%25eth0", DEFAULT),
    ("zone_id", "2a00:1028::1%1", DEFAULT),
    ("junk", "<1.2.3.4>", DEFAULT),
    ("junk", "1.2.3.4,", DEFAULT),
    ("junk", "1.2.3.4;", DEFAULT),
    ("junk", "1.2.3.4.", DEFAULT),
    ("junk", "http://1.2.3.4", DEFAULT),
    ("junk", "http://1.2.3.4/", DEFAULT),
    ("junk", "1.2.3.4:80", DEFAULT),
    ("junk", "x 1.2.3.4", DEFAULT),
    ("junk", "ip=1.2.3.4", DEFAULT),
    ("junk", '"8.8.8.8"', DEFAULT),
    ("junk", "8.8.8.8\u200b", DEFAULT),  # zero-width space is not whitespace
    ("junk", "8.8.8.8 8.8.4.4", DEFAULT),
    ("junk", "8.8.8.8%eth0", DEFAULT),
    ("junk", "8.8.8.8/32/x", DEFAULT),
    ("junk", "8.8.8.8/", DEFAULT),
    ("junk", "8.8.8.8/abc", DEFAULT),
    ("junk", "[2a00:1028::1]", DEFAULT),
    ("junk", "[2a00:1028::1]:443", DEFAULT),
    ("junk", "2a00:1028::1 x", DEFAULT),
    ("leading_zero", "1.2.3.010", DEFAULT),
    ("leading_zero", "00.0.0.0", DEFAULT),
    ("leading_zero", "8.8.8.08/32", DEFAULT),
    ("leading_zero", "::ffff:8.8.8.08", MAPPING),
    ("not_an_address", "256.1.1.1", DEFAULT),
    ("not_an_address", "1.2.3.4.5", DEFAULT),
    ("not_an_address", "1.2.3.456", DEFAULT),
    ("not_an_address", "example.com", DEFAULT),
    ("not_an_address", "localhost", DEFAULT),
    ("not_an_address", "2130706433", DEFAULT),  # 127.0.0.1 as an integer
    ("not_an_address", "0x7f.0.0.1", DEFAULT),
    ("not_an_address", "\u0661.\u0662.\u0663.\u0664", DEFAULT),  # Arabic-Indic digits
    ("not_an_address", "gggg::1", DEFAULT),
    ("not_an_address", "8.8.8.8x", DEFAULT),  # glued to a word: no address inside
    ("not_an_address", "2a00:1028::1x", DEFAULT),
    ("not_an_address", "8.8.8.8.nip.io", DEFAULT),
    ("not_an_address", "1::2::3", DEFAULT),
    ("not_an_address", "2a00:1028:1:2:3:4:5:6:7", DEFAULT),
    ("not_an_address", "2a00:00001::1", DEFAULT),
    ("not_an_address", "/32", DEFAULT),
    ("range", "10.0.0.0/8", DEFAULT),
    ("range", "8.8.8.8/0", DEFAULT),
    ("range", "8.8.8.8/31", DEFAULT),
    ("range", "8.8.8.8/128", DEFAULT),
    ("range", "2a00:1028::/32", DEFAULT),
    ("range", "2a00:1028::1/64", DEFAULT),
    ("range", "2a00:1028::1/32", DEFAULT),
    ("ipv6_disabled", "::1", NO_IPV6),
    ("ipv6_disabled", "::ffff:8.8.8.8", replace(NO_IPV6, map_ipv4_mapped=True)),
    ("ipv4_mapped", "::ffff:808:808", DEFAULT),
    ("ipv4_mapped", "::ffff:10.0.0.1", DEFAULT),
    ("unspecified", "::", DEFAULT),
    ("unspecified", "0:0:0:0:0:0:0:0", DEFAULT),
    ("this_network", "0.255.255.255", DEFAULT),
    ("loopback", "127.255.255.254", DEFAULT),
    ("loopback", "::1", DEFAULT),
    ("private", "10.255.255.255", DEFAULT),
    ("private", "172.16.0.1", DEFAULT),
    ("private", "172.31.255.255", DEFAULT),
    ("private", "192.168.1.1", DEFAULT),
    ("unique_local", "fc00::1", DEFAULT),
    ("cgnat", "100.127.255.254", DEFAULT),
    ("link_local", "fe80::1", DEFAULT),
    ("link_local", "febf:ffff::1", DEFAULT),
    ("site_local", "feff::1", DEFAULT),
    ("documentation", "198.51.100.7", DEFAULT),
    ("documentation", "203.0.113.9", DEFAULT),
    ("documentation", "2001:db8::1", DEFAULT),
    ("documentation", "3fff::1", DEFAULT),
    ("benchmarking", "198.19.255.254", DEFAULT),
    ("benchmarking", "2001:2::1", DEFAULT),
    ("multicast", "239.255.255.255", DEFAULT),
    ("multicast", "ff02::1", DEFAULT),
    ("multicast", "ff0e::1", DEFAULT),  # is_global is True for it
    ("reserved", "255.255.255.254", DEFAULT),
    ("reserved", "100::1", DEFAULT),  # discard-only
    ("reserved", "::ffff:0:808:808", DEFAULT),  # IPv4-translated
    ("reserved", "4000::1", DEFAULT),
    ("reserved", "fe00::1", DEFAULT),
    ("ipv4_compatible", "::2", DEFAULT),
    ("nat64", "64:ff9b::8.8.8.8", MAPPING),
    ("nat64", "64:ff9b:1::1", DEFAULT),
    ("6to4", "2002::1", DEFAULT),  # is_global is True for it on Python 3.11.7
    ("6to4", "192.88.99.1", DEFAULT),
    ("teredo", "2001::1", DEFAULT),
    ("orchid", "2001:20::1", DEFAULT),
    ("orchid", "2001:2f:ffff::1", DEFAULT),
    ("not_global", "192.0.0.1", DEFAULT),
    ("not_global", "192.0.0.10", DEFAULT),
    ("not_global", "2001:3::1", DEFAULT),  # AMT: global on later 3.11 releases only
    ("not_global", "2001:4:112::1", DEFAULT),
]

PUBLIC = [
    "8.8.8.8",
    "193.86.1.1",
    "1.1.1.1",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "169.253.255.255",
    "198.17.255.255",
    "198.20.0.0",
    "192.0.1.255",
    "223.255.255.255",
    "2a00:1028::1",
    "2001:4860:4860::8888",
    "2001:200::1",
    "2003::1",
    "3ffe::1",
]


def refusal_cases(cases: list[tuple[str, str, AddressPolicy]]) -> list:
    return [pytest.param(code, text, policy, id=code) for code, text, policy in cases]


@pytest.mark.parametrize(("code", "text", "policy"), refusal_cases(ONE_PER_CODE))
def test_every_refusal_code(code, text, policy):
    with pytest.raises(AddressRefused) as refused:
        parse_host_address(text, policy)
    assert refused.value.code == code
    assert refused.value.value == text


@pytest.mark.parametrize(("code", "text", "policy"), refusal_cases(MORE))
def test_more_refusals(code, text, policy):
    with pytest.raises(AddressRefused) as refused:
        parse_host_address(text, policy)
    assert refused.value.code == code


def test_one_case_per_code_covers_every_code():
    codes = [code for code, _, _ in ONE_PER_CODE]
    assert len(codes) == len(set(codes))
    assert set(codes) | {"duplicate"} == set(REFUSAL_CODES)
    assert len(REFUSAL_CODES) == len(set(REFUSAL_CODES))


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_accepted(text):
    address = parse_host_address(text)
    assert str(address) == text
    assert address.is_global and not address.is_multicast and not address.is_reserved
    if address.version == 6:
        assert address in IPv6Network("2000::/3")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2A00:1028:0000:0000:0000:0000:0000:0001", "2a00:1028::1"),
        ("2a00:1028:0:0::1", "2a00:1028::1"),
        ("2001:4860:4860:0:0:0:0:8888", "2001:4860:4860::8888"),
        ("2A00:1028:0:0:1:0:0:1", "2a00:1028::1:0:0:1"),
        ("2a00:1028:0001:0002:0003:0004:0005:0006", "2a00:1028:1:2:3:4:5:6"),
        ("8.8.8.8/32", "8.8.8.8"),
        ("2a00:1028::1/128", "2a00:1028::1"),
        (" \t193.86.1.1\n", "193.86.1.1"),
        ("  2A00:1028::1/128  ", "2a00:1028::1"),
    ],
)
def test_canonical_form(text, canonical):
    assert canonical_address(text) == canonical
    assert str(parse_host_address(text)) == canonical


def test_address_types():
    assert type(parse_host_address("8.8.8.8")) is IPv4Address
    assert type(parse_host_address("2a00:1028::1")) is IPv6Address


@pytest.mark.parametrize("text", ["192.0.2.1", "198.51.100.7", "203.0.113.254", "2001:db8::1", "3fff:fff::1"])
def test_documentation_ranges_only_with_the_flag(text):
    with pytest.raises(AddressRefused) as refused:
        parse_host_address(text)
    assert refused.value.code == "documentation"
    assert canonical_address(text, DOCS) == text


@pytest.mark.parametrize(
    ("code", "text", "policy"),
    refusal_cases([case for case in ONE_PER_CODE + MORE if case[0] != "documentation"]),
)
def test_the_documentation_flag_frees_nothing_else(code, text, policy):
    with pytest.raises(AddressRefused) as refused:
        parse_host_address(text, replace(policy, allow_documentation=True))
    assert refused.value.code == code


def test_ipv6_switch_refuses_every_ipv6_address_and_no_ipv4():
    for text in ["2a00:1028::1", "2001:4860:4860::8888", "::1", "fe80::1", "2001:db8::1"]:
        with pytest.raises(AddressRefused) as refused:
            parse_host_address(text, NO_IPV6)
        assert refused.value.code == "ipv6_disabled"
    assert canonical_address("8.8.8.8", NO_IPV6) == "8.8.8.8"
    with pytest.raises(AddressRefused, match="private"):
        parse_host_address("10.0.0.1", NO_IPV6)


@pytest.mark.parametrize("text", ["::ffff:8.8.8.8", "::FFFF:808:808", "0:0:0:0:0:ffff:8.8.8.8/128"])
def test_mapped_addresses_become_ipv4_with_the_flag(text):
    address = parse_host_address(text, MAPPING)
    assert address == IPv4Address("8.8.8.8")
    assert canonical_address(text, MAPPING) == "8.8.8.8"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("::ffff:100.64.0.1", "cgnat"),
        ("::ffff:224.0.0.1", "multicast"),
        ("::ffff:255.255.255.255", "broadcast"),
        ("::ffff:192.0.2.1", "documentation"),
        ("::ffff:8.8.8.8/96", "range"),
    ],
)
def test_mapped_addresses_must_pass_the_ipv4_rules(text, code):
    with pytest.raises(AddressRefused) as refused:
        parse_host_address(text, MAPPING)
    assert refused.value.code == code


def test_mapped_documentation_address_with_both_flags():
    assert canonical_address("::ffff:192.0.2.1", replace(MAPPING, allow_documentation=True)) == "192.0.2.1"


def test_address_refused_carries_code_and_value():
    with pytest.raises(AddressRefused) as raised:
        parse_host_address("  10.1.2.3 ")
    refusal = raised.value
    assert isinstance(refusal, ValueError)
    assert (refusal.code, refusal.value) == ("private", "  10.1.2.3 ")
    copy = pickle.loads(pickle.dumps(refusal))  # noqa: S301 - our own object, round trip
    assert (copy.code, copy.value) == ("private", "  10.1.2.3 ")


def test_non_strings_are_a_programming_error():
    for value in [None, 134744072, b"8.8.8.8", IPv4Address("8.8.8.8")]:
        with pytest.raises(TypeError):
            parse_host_address(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_address_list("8.8.8.8")


def test_address_list_in_order():
    assert parse_address_list([]) == []
    assert parse_address_list(["8.8.8.8", " 2A00:1028::1 ", "1.1.1.1/32"]) == [
        IPv4Address("8.8.8.8"),
        IPv6Address("2a00:1028::1"),
        IPv4Address("1.1.1.1"),
    ]


def test_address_list_reports_the_first_bad_entry():
    with pytest.raises(AddressListRefused) as raised:
        parse_address_list(["8.8.8.8", "1.1.1.1", "10.0.0.1", "not an address"])
    refused = raised.value
    assert refused.index == 2
    assert (refused.refusal.code, refused.refusal.value) == ("private", "10.0.0.1")
    assert (refused.code, refused.value) == ("private", "10.0.0.1")
    assert refused.duplicate_of is None
    assert isinstance(refused, AddressRefused) and isinstance(refused, ValueError)
    copy = pickle.loads(pickle.dumps(refused))  # noqa: S301 - our own object, round trip
    assert (copy.index, copy.code, copy.value) == (2, "private", "10.0.0.1")


@pytest.mark.parametrize(
    ("texts", "policy"),
    [
        (["2001:DB8::1", "2001:db8:0::1"], DOCS),
        (["2A00:1028::1", "2a00:1028:0::1/128"], DEFAULT),
        (["8.8.8.8", " 8.8.8.8/32"], DEFAULT),
        (["8.8.8.8", "::ffff:8.8.8.8"], MAPPING),
    ],
)
def test_address_list_refuses_duplicates_after_canonicalisation(texts, policy):
    with pytest.raises(AddressListRefused) as raised:
        parse_address_list(["1.1.1.1", texts[0], "9.9.9.9", texts[1], "10.0.0.1"], policy)
    refused = raised.value
    assert (refused.index, refused.duplicate_of) == (3, 1)
    assert (refused.code, refused.value) == ("duplicate", texts[1])


def test_ipv6_table_names_everything_outside_global_unicast():
    global_unicast = IPv6Network("2000::/3")
    outside = [network for network, _ in IPV6_RULES if not network.subnet_of(global_unicast)]
    assert list(ipaddress.collapse_addresses(outside)) == [
        IPv6Network("::/3"),
        IPv6Network("4000::/2"),
        IPv6Network("8000::/1"),
    ]


@pytest.mark.parametrize(("network", "code"), IPV4_RULES + IPV6_RULES, ids=str)
def test_every_table_network_is_refused(network, code):
    for address in [network.network_address, network.broadcast_address]:
        with pytest.raises(AddressRefused):
            parse_host_address(str(address))


def test_whatever_is_accepted_is_global_unicast():
    rng = random.Random(20261123)  # noqa: S311 - reproducible samples, not secrets
    samples = [IPv4Address(rng.getrandbits(32)) for _ in range(20_000)]
    samples += [IPv6Address(rng.getrandbits(128)) for _ in range(5_000)]
    samples += [IPv6Address(1 << 125 | rng.getrandbits(125)) for _ in range(20_000)]  # 2000::/3
    accepted = 0
    for address in samples:
        try:
            parse_host_address(str(address))
        except AddressRefused:
            continue
        accepted += 1
        assert address.is_global and not address.is_multicast, address
    assert accepted > 30_000


def test_is_global_is_the_last_gate(monkeypatch):
    from allowlist import addresses

    monkeypatch.setattr(addresses, "_FAST_IS_GLOBAL", False)  # as on a Python whose constants are not understood
    monkeypatch.setattr(IPv4Address, "is_global", property(lambda self: False))
    with pytest.raises(AddressRefused) as refused:
        parse_host_address("8.8.8.8")
    assert refused.value.code == "not_global"


def test_the_fast_global_check_is_the_last_gate_where_it_agrees(monkeypatch):
    from allowlist import addresses

    monkeypatch.setattr(addresses, "_fast_is_global", lambda value, version: False)
    with pytest.raises(AddressRefused) as refused:
        parse_host_address("8.8.8.8")
    assert refused.value.code == "not_global"


def test_imports_without_flask():
    code = "import allowlist.addresses, sys; assert 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_the_fast_global_check_is_in_use_and_agrees_with_the_standard_library():
    """The validator's integer-mask version of ``is_global`` (firewall renders need the speed) gives the
    standard library's answer; random public-looking addresses, IPv4 and 2000::/3."""
    import ipaddress
    import random

    from allowlist import addresses

    assert addresses._FAST_IS_GLOBAL, "this Python's ipaddress constants were not understood"
    rng = random.Random(20281)  # noqa: S311 - reproducible test data
    for _ in range(50_000):
        v4 = rng.getrandbits(32)
        v6 = (0b001 << 125) | rng.getrandbits(125)
        assert addresses._fast_is_global(v4, 4) == ipaddress.IPv4Address(v4).is_global, ipaddress.IPv4Address(v4)
        assert addresses._fast_is_global(v6, 6) == ipaddress.IPv6Address(v6).is_global, ipaddress.IPv6Address(v6)
