"""Set-up through the platform's API (httpx: set-up is not measured): the merchant, its
outlet, campaigns, customers, and the coupons, gifts and listings scenarios use."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import httpx

from devstack.testing.api import AuthApi, bearer
from devstack.testing.tokens import TestTokens
from hotpaths.base import BenchError
from hotpaths.servers import Server
from svc_auth.utils.signing import LOCAL_PRIVATE_KEY_FILE, KeyRing, SigningKey

REQUEST_TIMEOUT = 30.0
SEED_CUSTOMERS = 16
WALLET_COUPONS = 10  # each lookup/wallet customer's coupons


TLS_CONTEXT = ssl.create_default_context()  # loaded once: never used on loopback


async def setup_calls(
    server: Server,
    calls: Sequence[tuple[str, str, Mapping[str, str], Any]],
    *,
    expect: int,
    concurrency: int = 16,
) -> list[Any]:
    """Set-up requests through the API, `concurrency` at a time; their JSON answers, in
    order. Anything but `expect` fails the run."""
    answers: list[Any] = [None] * len(calls)
    queue = iter(enumerate(calls))
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=REQUEST_TIMEOUT, verify=TLS_CONTEXT
    ) as http:

        async def worker() -> None:
            for index, (method, path, headers, body) in queue:
                response = await http.request(method, path, headers=headers, json=body)
                if response.status_code != expect:
                    raise BenchError(
                        f"set-up: {method} {path} answered {response.status_code}: "
                        f"{response.text[:500]}"
                    )
                answers[index] = response.json()

        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(calls))):
                group.create_task(worker())
    return answers


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    token: str


@dataclass
class Coupon:
    id: str
    code: str
    owner_token: str
    owner_id: str


@dataclass
class World:
    tokens: TestTokens
    merchant_id: str
    outlet_id: str
    owner_id: str
    owner_email: str
    owner_token: str
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, token: str, body: Any, expect: int) -> Any:
        response = await self.http.request(method, path, json=body, headers=bearer(token))
        if response.status_code != expect:
            raise BenchError(
                f"set-up: {method} {path} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    async def campaign(
        self, title: str, *, total_quantity: int | None, per_customer_limit: int, publish: bool
    ) -> str:
        now = datetime.now(UTC)
        body = {
            "merchant_id": self.merchant_id,
            "title": title,
            "discount_type": "percentage",
            "discount_value": 10,
            "total_quantity": total_quantity,
            "per_customer_limit": per_customer_limit,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        }
        campaign = await self.call("POST", "/api/v1/campaigns", self.owner_token, body, 201)
        campaign_id: str = campaign["id"]
        if publish:
            path = f"/api/v1/campaigns/{campaign_id}/publish"
            await self.call("POST", path, self.owner_token, None, 200)
        return campaign_id

    def customers(self, count: int) -> list[Customer]:
        """New customers: a token each, no account (none is needed to be one)."""
        ids = [uuid.uuid4() for _ in range(count)]
        return [Customer(subject, self.tokens.token(subject=subject)) for subject in ids]


def load_tokens(state: Path, issuer: str) -> TestTokens:
    """Tokens signed with the key the platform wrote at start, as svc-auth would sign them."""
    pem = (state / "keys" / LOCAL_PRIVATE_KEY_FILE).read_text()
    return TestTokens(KeyRing(SigningKey.from_pem(pem)), issuer=issuer)


async def build_world(
    state: Path, platform: Server, http: httpx.AsyncClient, issuer: str | None = None
) -> World:
    tokens = load_tokens(state, issuer or platform.base_url)
    # The owner registers and applies (the token's subject is the applicant), an admin
    # verifies; the owner membership svc-auth then grants is in the owner's next token.
    email = f"owner-{uuid.uuid4().hex[:8]}@bench.example.com"
    owner = await AuthApi(http).register(email)
    applicant = uuid.UUID(owner["id"])
    world = World(tokens, "", "", owner["id"], email, "", http)
    merchant = await world.call(
        "POST",
        "/api/v1/merchants",
        tokens.token(subject=applicant),
        {"name": "Bench Bakery", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
        201,
    )
    world.merchant_id = merchant["id"]
    await world.call(
        "POST", f"/api/v1/merchants/{world.merchant_id}/verify", tokens.admin(), None, 200
    )
    world.owner_token = tokens.token(
        subject=applicant,
        memberships=((uuid.UUID(world.merchant_id), "owner"),),
        client_id="merchant-portal",
    )
    outlet = await world.call(
        "POST",
        f"/api/v1/merchants/{world.merchant_id}/outlets",
        world.owner_token,
        {"name": "Main street", "address": "Hauptstrasse 1, 10115 Berlin"},
        201,
    )
    world.outlet_id = outlet["id"]
    return world


async def seed_coupons(
    platform: Server,
    world: World,
    count: int,
    *,
    customers: Sequence[Customer],
    campaigns: int = 1,
) -> list[Coupon]:
    """Active coupons made by the platform's own claim endpoint, for `customers` in turn,
    from `campaigns` new campaigns in turn."""
    campaign_ids = [
        await world.campaign(
            "Bench seed", total_quantity=None, per_customer_limit=10_000, publish=True
        )
        for _ in range(campaigns)
    ]
    owners = list(islice(cycle(customers), count))
    paths = islice(cycle(f"/api/v1/campaigns/{c}/claim" for c in campaign_ids), count)
    bodies = await setup_calls(
        platform,
        [("POST", path, bearer(o.token), None) for path, o in zip(paths, owners, strict=True)],
        expect=201,
    )
    coupons = [
        Coupon(body["id"], body["code"], owner.token, body["owner_user_id"])
        for owner, body in zip(owners, bodies, strict=True)
    ]
    if any(c.owner_id != str(owner.id) for c, owner in zip(coupons, owners, strict=True)):
        raise BenchError("set-up: a claimed coupon is not its claimant's")
    return coupons


@dataclass(frozen=True)
class Gift:
    """A pending transfer made through the platform's API, and who is to accept it."""

    coupon: Coupon
    transfer_id: str
    claim_token: str
    recipient: Customer


async def give_coupons(
    platform: Server, coupons: Sequence[Coupon], recipients: Sequence[Customer]
) -> list[Gift]:
    """Each coupon given by its owner through POST /api/v1/coupons/{code}/transfers."""
    bodies = await setup_calls(
        platform,
        [
            ("POST", f"/api/v1/coupons/{c.code}/transfers", bearer(c.owner_token), None)
            for c in coupons
        ],
        expect=201,
    )
    gifts = [
        Gift(coupon, body["id"], body["claim_token"], recipient)
        for coupon, body, recipient in zip(
            coupons, bodies, islice(cycle(recipients), len(coupons)), strict=True
        )
    ]
    if any(b["coupon"]["id"] != g.coupon.id for g, b in zip(gifts, bodies, strict=True)):
        raise BenchError("set-up: a transfer holds another coupon than the one given")
    return gifts


@dataclass(frozen=True)
class Offer:
    """An open listing made through the platform's API, and the coupon its taker offers."""

    listing_id: str
    listed: Coupon
    offered: Coupon


async def list_coupons(
    platform: Server, listed: Sequence[Coupon], offered: Sequence[Coupon]
) -> list[Offer]:
    """Each of `listed` put on the exchange by its owner, wanting anything; each paired with
    the coupon of `offered` at its place."""
    bodies = await setup_calls(
        platform,
        [
            (
                "POST",
                "/api/v1/exchange/listings",
                bearer(c.owner_token),
                {"coupon_code": c.code, "wants": {}},
            )
            for c in listed
        ],
        expect=201,
    )
    offers = [
        Offer(body["id"], coupon, offer)
        for body, coupon, offer in zip(bodies, listed, offered, strict=True)
    ]
    if any(b["coupon"]["id"] != o.listed.id for o, b in zip(offers, bodies, strict=True)):
        raise BenchError("set-up: a listing holds another coupon than the one listed")
    return offers
