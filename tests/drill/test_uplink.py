"""The drill's own link addresses: the benchmarking range, never private, never the host's."""

from __future__ import annotations

import random
from ipaddress import IPv4Network, ip_network

import pytest

from drill.network import PRIVATE_RANGES, UPLINK_SPACE, pick_uplink
from drill.plan import CLIENT_NETWORKS


def test_uplink_space_and_client_networks_are_not_private() -> None:
    assert str(UPLINK_SPACE) == "198.18.0.0/15"
    for network in (UPLINK_SPACE, *CLIENT_NETWORKS):
        assert not any(network.overlaps(private) for private in PRIVATE_RANGES if private.version == network.version)


def test_pick_uplink_avoids_every_network_the_host_has() -> None:
    # The host already holds most of the range: only one /30 is left.
    used = [ip_network("198.18.0.0/16"), ip_network("198.19.0.0/17"), ip_network("198.19.128.0/18")]
    used += [ip_network(f"198.19.{third}.0/24") for third in range(192, 256) if third != 200]
    used += [ip_network(f"198.19.200.{fourth}/32") for fourth in range(4, 256)]
    chosen = pick_uplink(used, random.Random(1))  # noqa: S311 - not a secret
    assert chosen == IPv4Network("198.19.200.0/30")
    assert not any(chosen.overlaps(network) for network in used)


def test_pick_uplink_gives_up_when_the_range_is_taken() -> None:
    with pytest.raises(RuntimeError, match="no free /30"):
        pick_uplink([ip_network("198.18.0.0/15")], random.Random(1))  # noqa: S311 - not a secret
