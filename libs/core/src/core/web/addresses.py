"""The client's address as our own edge vouches for it: the key of every per-address limit.

A header the client writes (X-Forwarded-For, X-Real-IP, Forwarded) is never believed by
default: anyone can put any address in it, and a limit keyed on it resets at will.

- In Lambda: API Gateway's `requestContext.http.sourceIp`, the peer of the connection API
  Gateway accepted, read from the event Mangum leaves in the scope (`aws.event`).
- Elsewhere: the socket's peer (the local stack's servers run uvicorn without its proxy
  headers); or, with TRUSTED_PROXY_HOPS = n, when n proxies of ours stand in front of the
  server and each appends its own peer to X-Forwarded-For, the address n hops from the
  right: what the outermost of them saw. Whatever lies further left was written by the
  client.

An IPv6 address counts as its /64: a subscriber is routinely given a whole /64, and could
otherwise take a fresh address for every request.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.types import Scope

IPV6_SUBSCRIBER_PREFIX = 64


def client_address(request: Request) -> str:
    """The address a request's per-address limits count, with the service's settings."""
    hops: int = request.app.state.runtime.settings.trusted_proxy_hops
    return address_of(request.scope, trusted_proxy_hops=hops)


def address_of(scope: Scope, *, trusted_proxy_hops: int = 0) -> str:
    event = scope.get("aws.event")
    if event is not None:
        return _limit_key(event["requestContext"]["http"]["sourceIp"])
    client = scope.get("client")
    chain = [client[0] if client else ""]
    if trusted_proxy_hops:
        forwarded = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        chain += reversed([hop for hop in forwarded if hop])
    return _limit_key(chain[min(trusted_proxy_hops, len(chain) - 1)])


def _limit_key(address: str) -> str:
    try:
        # An interface also reads API Gateway's occasional "192.0.2.1/32" form.
        ip = ipaddress.ip_interface(address.strip()).ip
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(ip)
