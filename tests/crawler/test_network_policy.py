"""The SSRF guard: only public addresses unless a network is allowed explicitly."""

from __future__ import annotations

import pytest

from fraudwall.crawler.network import NetworkPolicy
from fraudwall.exceptions import ConfigError


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "::1", "fe80::1", "0.0.0.0",
     "::ffff:127.0.0.1", "100.64.0.1", "224.0.0.1", "not-an-ip"],
)
def test_default_policy_refuses_internal_addresses(address: str) -> None:
    """Loopback, private, link-local (cloud metadata), CGNAT, multicast and junk are refused by default."""
    assert not NetworkPolicy().allows(address)


def test_public_addresses_and_allowed_networks() -> None:
    """Public addresses pass; --allow-net opens exactly the named network."""
    assert NetworkPolicy().allows("8.8.8.8") and NetworkPolicy().allows("2001:4860::8888")
    policy = NetworkPolicy(["127.0.0.0/8"])
    assert policy.allows("127.0.0.1") and policy.allows("::ffff:127.0.0.2")
    assert not policy.allows("10.0.0.1")


def test_bad_cidr_is_a_config_error() -> None:
    """A malformed --allow-net value is reported, not ignored."""
    with pytest.raises(ConfigError, match="CIDR"):
        NetworkPolicy(["127.0.0.0/33"])
