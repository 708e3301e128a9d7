"""The one IP-address validator: is a text exactly one public host address, and which one?

The portal's forms, the firewall and the feed proxy all ask this module, so they judge an address
identically. A refusal carries a stable ``code`` (see ``REFUSAL_CODES``) for translations and tests.

``ipaddress.is_global`` alone is not enough and its definition changed between 3.11 patch releases
(multicast counts as global; 6to4 and parts of ``2001::/23`` moved), so every special network is
named in an explicit table, checked in a fixed order; ``is_global`` is only the last gate.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

Address = IPv4Address | IPv6Address

#: Every code a refusal can carry; "duplicate" comes only from parse_address_list.
REFUSAL_CODES: tuple[str, ...] = (
    "empty",
    "zone_id",
    "junk",
    "leading_zero",
    "not_an_address",
    "range",
    "ipv6_disabled",
    "ipv4_mapped",
    "unspecified",
    "this_network",
    "broadcast",
    "loopback",
    "private",
    "unique_local",
    "cgnat",
    "link_local",
    "site_local",
    "documentation",
    "benchmarking",
    "multicast",
    "reserved",
    "ipv4_compatible",
    "nat64",
    "6to4",
    "teredo",
    "orchid",
    "not_global",
    "duplicate",
)


@dataclass(frozen=True)
class AddressPolicy:
    #: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20 (demos, tests)
    allow_documentation: bool = False
    #: admin switch: False refuses every IPv6 address, IPv4-mapped ones included
    allow_ipv6: bool = True
    #: True: ::ffff:a.b.c.d is accepted and returned as a.b.c.d (after the IPv4 checks); False: refused
    map_ipv4_mapped: bool = False


DEFAULT_POLICY = AddressPolicy()


class AddressRefused(ValueError):
    """Carries a stable `code` (str) and the offending `value` (str); never match on the message."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(code, value)
        self.code = code
        self.value = value

    def __str__(self) -> str:
        return f"{self.value!r} is not an acceptable host address ({self.code})"


class AddressListRefused(AddressRefused):
    """Entry ``index`` of a list was refused; ``refusal`` says why, ``duplicate_of`` which earlier entry it repeats."""

    def __init__(self, index: int, refusal: AddressRefused, duplicate_of: int | None = None) -> None:
        super().__init__(refusal.code, refusal.value)
        self.args = (index, refusal, duplicate_of)
        self.index = index
        self.refusal = refusal
        self.duplicate_of = duplicate_of

    def __str__(self) -> str:
        if self.duplicate_of is not None:
            return f"entry {self.index} ({self.value!r}) repeats entry {self.duplicate_of}"
        return f"entry {self.index}: {self.refusal}"


#: First match wins. Documentation overlaps no other entry, so allow_documentation frees only it.
IPV4_RULES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), code)
    for network, code in [
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "this_network"),
        ("255.255.255.255/32", "broadcast"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("169.254.0.0/16", "link_local"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("192.88.99.0/24", "6to4"),  # deprecated 6to4 relay anycast (RFC 7526)
        # IETF protocol assignments: 3.11 patch releases disagree on 192.0.0.9 and .10 (anycast, no host).
        ("192.0.0.0/24", "not_global"),
    ]
)

#: First match wins. Everything outside 2000::/3 is named here, so "reserved" needs no is_reserved.
IPV6_RULES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), code)
    for network, code in [
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "ipv4_mapped"),  # reached only when the policy does not map
        ("::/96", "ipv4_compatible"),
        ("64:ff9b::/96", "nat64"),
        ("64:ff9b:1::/48", "nat64"),
        ("::/8", "reserved"),  # e.g. IPv4-translated ::ffff:0:0:0/96; discard-only 100::/64 is in the next
        ("100::/8", "reserved"),
        ("200::/7", "reserved"),
        ("400::/6", "reserved"),
        ("800::/5", "reserved"),
        ("1000::/4", "reserved"),
        ("2001::/32", "teredo"),
        ("2001:2::/48", "benchmarking"),
        ("2001:10::/28", "orchid"),
        ("2001:20::/28", "orchid"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),  # RFC 9637
        ("2002::/16", "6to4"),
        # IETF protocol assignments: 3.11 patch releases disagree on AMT, AS112, DRIP, anycast parts.
        ("2001::/23", "not_global"),
        ("4000::/3", "reserved"),
        ("6000::/3", "reserved"),
        ("8000::/3", "reserved"),
        ("a000::/3", "reserved"),
        ("c000::/3", "reserved"),
        ("e000::/4", "reserved"),
        ("f000::/5", "reserved"),
        ("f800::/6", "reserved"),
        ("fc00::/7", "unique_local"),
        ("fe00::/9", "reserved"),
        ("fe80::/10", "link_local"),
        ("fec0::/10", "site_local"),
        ("ff00::/8", "multicast"),
    ]
)


_Rule = tuple[int, int, str]  #: (network as int, mask as int, code): a membership test is one AND


def _by_top_byte(rules: Sequence[tuple[IPv4Network | IPv6Network, str]]) -> tuple[tuple[_Rule, ...], ...]:
    """Per value of an address's top byte, the rules that can match it, in table order.

    A public address then meets no rule or a few instead of them all (the firewall checks 10,000).
    """
    buckets: list[list[_Rule]] = [[] for _ in range(256)]
    for network, code in rules:
        shift = network.max_prefixlen - 8
        first, last = int(network.network_address), int(network.broadcast_address)
        for top in range(first >> shift, (last >> shift) + 1):
            buckets[top].append((first, int(network.netmask), code))
    return tuple(tuple(bucket) for bucket in buckets)


_IPV4_BUCKETS = _by_top_byte(IPV4_RULES)
_IPV6_BUCKETS = _by_top_byte(IPV6_RULES)


def _stdlib_not_global(version: int) -> tuple[tuple[tuple[_Rule, ...], ...], tuple[tuple[int, int], ...]] | None:
    """The networks this Python's ``is_global`` refuses, bucketed like the rules, and their exceptions.

    ``is_global`` tests membership in each network object in turn: a tenth of a millisecond per address
    that passes every rule above, too slow for 10,000 addresses per firewall render. The same networks as
    integer masks give the same answer. They are read from ``ipaddress``'s private constants, which patch
    releases change; ``_FAST_IS_GLOBAL`` is used only if it agrees with ``is_global`` on both sides of
    every boundary (checked at import), else ``is_global`` itself is asked.
    """
    constants = getattr(ipaddress, "_IPv4Constants" if version == 4 else "_IPv6Constants", None)
    private = getattr(constants, "_private_networks", None)
    if not private:
        return None
    refused = list(private)
    if version == 4:
        refused.append(IPv4Network("100.64.0.0/10"))  # is_global: shared address space is not global either
    exceptions = getattr(constants, "_private_networks_exceptions", ())
    buckets = _by_top_byte([(network, "not_global") for network in refused])
    return buckets, tuple((int(n.network_address), int(n.netmask)) for n in exceptions)


def _fast_is_global(value: int, version: int) -> bool:
    tables = _STDLIB_NOT_GLOBAL[version]
    assert tables is not None
    buckets, exceptions = tables
    bucket = buckets[value >> (24 if version == 4 else 120)]
    if not any(value & mask == network for network, mask, _code in bucket):
        return True
    return any(value & mask == network for network, mask in exceptions)


def _agrees_with_stdlib() -> bool:
    """The fast test and ``is_global`` agree at, just inside and just outside every network's ends."""
    for version, address_type in ((4, IPv4Address), (6, IPv6Address)):
        tables = _STDLIB_NOT_GLOBAL[version]
        if tables is None:
            return False
        top = 2 ** (32 if version == 4 else 128) - 1
        ends = {n for bucket in tables[0] for n, _m, _c in bucket} | {n for n, _m in tables[1]}
        ends |= {n | (~m & top) for bucket in tables[0] for n, m, _c in bucket} | {n | (~m & top) for n, m in tables[1]}
        for end in ends:
            for value in (end - 1, end, end + 1):
                if 0 <= value <= top and _fast_is_global(value, version) != address_type(value).is_global:
                    return False
    return True


_STDLIB_NOT_GLOBAL = {4: _stdlib_not_global(4), 6: _stdlib_not_global(6)}
_FAST_IS_GLOBAL = _agrees_with_stdlib()
_MAPPED_NET, _MAPPED_MASK = int(IPv6Address("::ffff:0:0")), int(IPv6Network("::/96").netmask)

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: The common case, parsed without ipaddress's own (slower) parser; ASCII digits, no leading zeros.
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_DOTTED_QUAD = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)")
_PREFIX = re.compile(r"0|[1-9][0-9]{0,2}")
#: An address inside a longer text, not glued to a word: "1.2.3.4," and "[::1]" are junk, "gggg::1" is not.
_IPV4_TOKEN = re.compile(r"(?<![0-9A-Za-z_.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?!\.?[0-9A-Za-z_])")
_IPV6_TOKEN = re.compile(r"(?<![0-9A-Za-z_.:])[0-9A-Fa-f:.]++(?![0-9A-Za-z_])")


def parse_host_address(text: str, policy: AddressPolicy = DEFAULT_POLICY) -> Address:
    """The single public host address ``text`` denotes, or AddressRefused."""
    if not isinstance(text, str):
        raise TypeError(f"an address must be given as str, not {type(text).__name__}")
    address = _parse(text.strip(), text)
    if isinstance(address, IPv6Address):
        if not policy.allow_ipv6:
            raise AddressRefused("ipv6_disabled", text)
        if int(address) & _MAPPED_MASK == _MAPPED_NET and policy.map_ipv4_mapped:
            address = address.ipv4_mapped
            assert address is not None
    code = _special_code(address, policy)
    if code is not None:
        raise AddressRefused(code, text)
    return address


def canonical_address(text: str, policy: AddressPolicy = DEFAULT_POLICY) -> str:
    """The canonical spelling: dotted quad, or lower-case compressed IPv6, without a prefix."""
    return str(parse_host_address(text, policy))


def parse_address_list(texts: Sequence[str], policy: AddressPolicy = DEFAULT_POLICY) -> list[Address]:
    """Every entry parsed, in order; AddressListRefused for the first bad or repeated entry."""
    if isinstance(texts, str):
        raise TypeError("parse_address_list takes a sequence of addresses, not one str")
    addresses: list[Address] = []
    seen: dict[tuple[int, int], int] = {}  # (version, int): hashing the address objects is slower
    for index, text in enumerate(texts):
        try:
            address = parse_host_address(text, policy)
        except AddressRefused as refusal:
            raise AddressListRefused(index, refusal) from refusal
        key = (address.version, int(address))
        if key in seen:
            raise AddressListRefused(index, AddressRefused("duplicate", text), duplicate_of=seen[key])
        seen[key] = index
        addresses.append(address)
    return addresses


def _parse(stripped: str, text: str) -> Address:
    """The syntax: one address, optionally /32 or /128; no policy yet."""
    if not stripped:
        raise AddressRefused("empty", text)
    if "%" in stripped:
        head, _, zone = stripped.partition("%")
        if zone and _ipv6_or_none(head) is not None:
            raise AddressRefused("zone_id", text)
        raise AddressRefused(_junk_or_not_an_address(stripped), text)
    body, slash, prefix = stripped.partition("/")
    if slash and ("/" in prefix or not _PREFIX.fullmatch(prefix)):
        raise AddressRefused(_junk_or_not_an_address(stripped), text)
    quad = _IPV4.fullmatch(body)
    address: Address | None
    if quad is not None:
        a, b, c, d = map(int, quad.groups())
        address = IPv4Address(a << 24 | b << 16 | c << 8 | d)
    else:
        loose = _DOTTED_QUAD.fullmatch(body.rpartition(":")[2])  # also the IPv4 tail of an IPv6 address
        if loose and any(len(octet) > 1 and octet[0] == "0" for octet in loose.groups()):
            raise AddressRefused("leading_zero", text)
        address = _ipv6_or_none(body) if ":" in body else None
        if address is None:
            raise AddressRefused(_junk_or_not_an_address(stripped), text)
    if slash and int(prefix) != address.max_prefixlen:
        raise AddressRefused("range", text)
    return address


def _special_code(address: Address, policy: AddressPolicy) -> str | None:
    """The code of the first rule ``address`` falls under, or None for a public host address."""
    value = int(address)
    rules = _IPV4_BUCKETS[value >> 24] if address.version == 4 else _IPV6_BUCKETS[value >> 120]
    for network, mask, code in rules:
        if value & mask == network:
            if code == "documentation" and policy.allow_documentation:
                return None
            return code
    is_global = _fast_is_global(value, address.version) if _FAST_IS_GLOBAL else address.is_global
    return None if is_global else "not_global"


def _junk_or_not_an_address(stripped: str) -> str:
    """Junk when a valid address sits inside the text with something around it; else not an address."""
    for match in _IPV4_TOKEN.finditer(stripped):
        if _ipv4_or_none(match.group()) is not None:
            return "junk"
    for match in _IPV6_TOKEN.finditer(stripped):
        run = match.group()
        if ":" in run and (_ipv6_or_none(run) is not None or _ipv6_or_none(run.rstrip(".:")) is not None):
            return "junk"
    return "not_an_address"


def _ipv4_or_none(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text)
    except ValueError:
        return None


def _ipv6_or_none(text: str) -> IPv6Address | None:
    if "%" in text:  # ipaddress would take it as a scope id
        return None
    try:
        return IPv6Address(text)
    except ValueError:
        return None
