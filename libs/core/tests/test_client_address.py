"""The address per-address limits count: what our edge saw, never what the client wrote."""

from __future__ import annotations

from typing import Any

import pytest

from core.web.addresses import address_of
from devstack.testing.lambda_harness import http_event

FORGED = (b"x-forwarded-for", b"203.0.113.66")


def scope(peer: str, *headers: tuple[bytes, bytes], **extra: Any) -> dict[str, Any]:
    return {"type": "http", "client": (peer, 51000), "headers": list(headers), **extra}


def test_the_socket_peer_by_default_whatever_the_client_forwards() -> None:
    assert address_of(scope("198.51.100.7", FORGED)) == "198.51.100.7"
    assert address_of(scope("198.51.100.7", (b"x-real-ip", b"203.0.113.66"))) == "198.51.100.7"


@pytest.mark.parametrize(
    ("hops", "expected"),
    [
        (1, "192.0.2.10"),  # what our one proxy saw: its peer, appended last
        (2, "192.0.2.20"),  # two proxies: the outer one's peer
        (5, "203.0.113.66"),  # more hops than entries: the furthest there is
    ],
)
def test_a_configured_count_of_proxies_takes_that_many_hops_from_the_right(
    hops: int, expected: str
) -> None:
    chain = scope(
        "10.0.0.2",
        (b"x-forwarded-for", b"203.0.113.66, 192.0.2.20"),
        (b"x-forwarded-for", b"192.0.2.10"),
    )
    assert address_of(chain, trusted_proxy_hops=hops) == expected


def test_a_proxy_that_forwarded_nothing_leaves_the_peer() -> None:
    assert address_of(scope("198.51.100.7"), trusted_proxy_hops=1) == "198.51.100.7"


def test_in_lambda_api_gateways_source_ip_whatever_the_headers_say() -> None:
    event = http_event("POST", "/api/v1/auth/register", headers={"X-Forwarded-For": "203.0.113.66"})
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.9"
    lambda_scope = scope("10.0.0.1", FORGED, **{"aws.event": event})
    assert address_of(lambda_scope) == "198.51.100.9"
    assert address_of(lambda_scope, trusted_proxy_hops=1) == "198.51.100.9"
    # The shape of AWS's own sample event: an address with its prefix length.
    event["requestContext"]["http"]["sourceIp"] = "192.168.0.1/32"
    assert address_of(lambda_scope) == "192.168.0.1"


def test_an_ipv6_subscriber_is_one_address_across_its_64() -> None:
    first = address_of(scope("2001:db8:1:2::1"))
    assert first == address_of(scope("2001:db8:1:2:ffff:ffff:ffff:fffe")) == "2001:db8:1:2::/64"
    assert address_of(scope("2001:db8:1:3::1")) != first
    assert address_of(scope("::ffff:198.51.100.7")) == "198.51.100.7"
