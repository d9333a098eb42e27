"""`python -m devstack.demo` (make demo): fill a running stack with the demo world.

Everything goes through the public API, with the generated Python client, as a portal
would. What exists already is found and kept, so a second run adds nothing: accounts
sign in instead of registering, merchants, outlets and campaigns are looked up by name,
and each coupon scene runs only when its customer's coupons do not show it yet. The
partner client's secret is shown once by the API, so it is kept in
.local/demo-partner-client.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from devstack.demo.world import (
    CUSTOMERS,
    DEMO_PASSWORD,
    MERCHANTS,
    PARTNER_CLIENT,
    DemoCampaign,
    DemoMerchant,
)
from devstack.stack.bring_up import LOCAL_ADMIN_EMAIL
from devstack.stack.services import REPO_ROOT
from platform_client import PlatformClient, ProblemError

OWNERSHIP_WAIT_SECONDS = 10.0


@dataclass
class MerchantScene:
    spec: DemoMerchant
    owner: PlatformClient
    merchant: dict[str, Any]
    outlets: list[dict[str, Any]]
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class World:
    merchants: dict[str, MerchantScene]
    customers: dict[str, PlatformClient]
    staff: PlatformClient
    partner_client: dict[str, Any]
    notes: list[str] = field(default_factory=list)


async def account(api: PlatformClient, email: str, client_id: str) -> PlatformClient:
    try:
        await api.auth.register_user(
            {"email": email, "password": DEMO_PASSWORD, "display_name": email.split("@")[0]}
        )
    except ProblemError as refused:
        if refused.code != "email_taken":
            raise
    return await api.sign_in(email, DEMO_PASSWORD, client_id)


async def _owned(applicant: PlatformClient, merchant_id: str) -> None:
    """svc-auth grants the owner membership on merchant.verified, within seconds."""
    deadline = asyncio.get_running_loop().time() + OWNERSHIP_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        me = await applicant.auth.get_me()
        if any(m["merchant_id"] == merchant_id and m["role"] == "owner" for m in me["memberships"]):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the owner membership of {merchant_id} did not arrive")


async def merchant_scene(
    api: PlatformClient, admin: PlatformClient, spec: DemoMerchant
) -> MerchantScene:
    applicant = await account(api, spec.owner, "merchant-portal")
    mine = (await applicant.merchants.list_merchants(mine=True, limit=100))["items"]
    merchant: dict[str, Any] | None = next((dict(m) for m in mine if m["name"] == spec.name), None)
    if merchant is None:
        body: Any = {"name": spec.name, **spec.profile}
        merchant = dict(await applicant.merchants.apply_for_merchant(body))
    if merchant["status"] == "pending":
        merchant = dict(await admin.merchants.verify_merchant(merchant["id"]))
    await _owned(applicant, merchant["id"])
    owner = await api.sign_in(spec.owner, DEMO_PASSWORD, "merchant-portal")

    existing = (await owner.merchants.list_outlets(merchant["id"], limit=100))["items"]
    outlets = [dict(o) for o in existing]
    for outlet in spec.outlets:
        if not any(o["name"] == outlet["name"] for o in outlets):
            body = dict(outlet)
            outlets.append(dict(await owner.merchants.create_outlet(merchant["id"], body)))
    for email in spec.staff:
        await account(api, email, "merchant-portal")
        members = (await owner.auth.list_members(merchant["id"], limit=100))["items"]
        if not any(m["email"] == email for m in members):
            await owner.auth.add_member(merchant["id"], {"email": email, "role": "staff"})
    scene = MerchantScene(spec, owner, merchant, outlets)
    for campaign in spec.campaigns:
        if campaign.ends_in_seconds is None:  # a short one is made right before its claim
            scene.campaigns[campaign.key] = await campaign_of(scene, campaign)
    return scene


async def campaign_of(scene: MerchantScene, spec: DemoCampaign) -> dict[str, Any]:
    owner, merchant_id = scene.owner, scene.merchant["id"]
    found: dict[str, Any] | None = None
    for status in ("active", "draft"):
        listed = await owner.coupons.list_campaigns(
            merchant_id=merchant_id, status=status, limit=100
        )
        found = next((dict(c) for c in listed["items"] if c["title"] == spec.title), None)
        if found is not None:
            break
    if found is None:
        now = datetime.now(UTC)
        lasts = (
            timedelta(seconds=spec.ends_in_seconds) if spec.ends_in_seconds else timedelta(days=90)
        )
        body: Any = {
            "merchant_id": merchant_id,
            "title": spec.title,
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + lasts).isoformat(),
            **spec.terms,
        }
        found = dict(await owner.coupons.create_campaign(body))
    if found["status"] == "draft":
        found = dict(await owner.coupons.publish_campaign(found["id"]))
    return found


async def wallet(customer: PlatformClient) -> list[dict[str, Any]]:
    return [dict(c) for c in (await customer.coupons.list_wallet(limit=100))["items"]]


def _of(
    coupons: list[dict[str, Any]], campaign: dict[str, Any], *statuses: str
) -> list[dict[str, Any]]:
    return [
        c
        for c in coupons
        if c["campaign_id"] == campaign["id"] and (not statuses or c["status"] in statuses)
    ]


async def coupon_scenes(world: World) -> None:
    """A coupon in every state: active, reserved by a gift and by a listing, redeemed,
    expired, void, and one issued by a partner from its allocation."""
    coffee, books, cinema = (world.merchants[k] for k in ("coffee", "books", "cinema"))
    alice, bob, carol, dave = (world.customers[e] for e in CUSTOMERS)
    coffee20, beans = coffee.campaigns["coffee20"], coffee.campaigns["beans"]

    # alice: an active coupon, and another one given away (reserved until accepted).
    if not _of(await wallet(alice), coffee20):
        await alice.coupons.claim_coupon(coffee20["id"])
    if not (await alice.coupons.list_transfers(role="sent"))["items"]:
        gift = await alice.coupons.claim_coupon(coffee20["id"])
        transfer = await alice.coupons.give_coupon(gift["code"])
        world.notes.append(
            f"alice's gift: POST /api/v1/transfers/{transfer['id']}/accept "
            f'{{"claim_token": "{transfer["claim_token"]}"}} (as another customer)'
        )

    # bob: a cinema coupon, a paperback coupon listed for a coffee one, a voided one.
    if not _of(await wallet(bob), cinema.campaigns["tickets"]):
        await bob.coupons.claim_coupon(cinema.campaigns["tickets"]["id"])
    if not (await bob.coupons.list_listings(mine=True, limit=100))["items"]:
        listed = await bob.coupons.claim_coupon(books.campaigns["paperbacks"]["id"])
        await bob.coupons.create_listing(
            {"coupon_code": listed["code"], "wants": {"merchant_id": coffee.merchant["id"]}}
        )
    if not _of(await wallet(bob), beans):
        voided = await bob.coupons.claim_coupon(beans["id"])
        await coffee.owner.coupons.void_coupon(voided["code"], {"reason": "Issued by mistake"})

    # carol: a coupon redeemed at the till, and one that expired with its campaign.
    carol_coupons = await wallet(carol)
    if not _of(carol_coupons, coffee20, "redeemed"):
        redeemable = await carol.coupons.claim_coupon(coffee20["id"])
        await world.staff.coupons.redeem_coupon(
            redeemable["code"],
            {
                "outlet_id": coffee.outlets[0]["id"],
                "order_amount": 1250,
                "order_reference": "till-1/0042",
            },
        )
    flash = await campaign_of(coffee, next(c for c in coffee.spec.campaigns if c.key == "flash"))
    coffee.campaigns["flash"] = flash
    ends = datetime.fromisoformat(flash["ends_at"])
    if not _of(carol_coupons, flash) and ends > datetime.now(UTC):
        await carol.coupons.claim_coupon(flash["id"])
        await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.5)

    # dave: a coupon Tulip Books issued from its share of the coffee campaign.
    shares = (await coffee.owner.coupons.list_campaign_allocations(coffee20["id"]))["items"]
    share: dict[str, Any] | None = dict(shares[0]) if shares else None
    if share is None:
        share = dict(
            await coffee.owner.coupons.create_allocation(
                coffee20["id"], {"partner_merchant_id": books.merchant["id"], "quantity": 50}
            )
        )
    if share["issued"] == 0:
        me = await dave.auth.get_me()
        await books.owner.coupons.issue_from_allocation(share["id"], {"user_id": me["id"]})


def _kept(path: Path) -> dict[str, Any] | None:
    return dict(json.loads(path.read_text())) if path.exists() else None


def _keep(path: Path, secret: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(secret, indent=2))
    path.chmod(0o600)


async def partner_client(coffee: MerchantScene, kept: Path) -> dict[str, Any]:
    saved = _kept(kept)
    if saved is not None and saved.get("merchant_id") == coffee.merchant["id"]:
        return saved  # (another merchant id: kept from a database since wiped)
    body: Any = {**PARTNER_CLIENT, "merchant_id": coffee.merchant["id"]}
    issued = dict(await coffee.owner.auth.create_partner_client(body))
    _keep(kept, issued)
    return issued


async def build_world(api: PlatformClient, admin: PlatformClient, state_dir: Path) -> World:
    merchants = {spec.key: await merchant_scene(api, admin, spec) for spec in MERCHANTS}
    customers = {email: await account(api, email, "customer-portal") for email in CUSTOMERS}
    staff = await api.sign_in(MERCHANTS[0].staff[0], DEMO_PASSWORD, "merchant-portal")
    client = await partner_client(merchants["coffee"], state_dir / "demo-partner-client.json")
    world = World(merchants, customers, staff, client)
    await coupon_scenes(world)
    return world


async def report(world: World, base_url: str) -> str:
    alice = world.customers[CUSTOMERS[0]]
    coffee = world.merchants["coffee"]
    lines = [
        "",
        f"Demo world ready at {base_url} (running make demo again adds nothing).",
        "",
        f"Every demo account's password: {DEMO_PASSWORD}",
        "  customers (customer-portal): " + ", ".join(CUSTOMERS),
        f"  staff (merchant-portal):     {MERCHANTS[0].staff[0]} ({MERCHANTS[0].name})",
    ]
    for scene in world.merchants.values():
        lines.append(
            f"  owner (merchant-portal):     {scene.spec.owner}: {scene.spec.name}"
            f" {scene.merchant['id']}, outlets {', '.join(o['name'] for o in scene.outlets)}"
        )
        for campaign in scene.campaigns.values():
            lines.append(f"      campaign {campaign['id']} {campaign['title']}")
    lines.append("")
    for email, customer in world.customers.items():
        coupons = await wallet(customer)
        states = ", ".join(f"{c['status']} {c['campaign']['title']!r}" for c in coupons)
        lines.append(f"  {email.split('@')[0]:<6} {states or 'no coupons'}")
    partner = world.partner_client
    lines += [
        "",
        f"Partner client (a till system of {coffee.spec.name}): client_id {partner['client_id']}"
        f" secret {partner['client_secret']} scopes {' '.join(partner['scopes'])}",
        *(f"  {note}" for note in world.notes),
        "",
        "Tokens for 15 minutes (paste into Swagger UI's Authorize, or export):",
        f"  export ALICE={alice.token}",
        f"  export OWNER={coffee.owner.token}",
        "",
        "Try:",
        f'  curl -s {base_url}/api/v1/wallet -H "Authorization: Bearer $ALICE"',
        f"  curl -s {base_url}/api/v1/campaigns/{coffee.campaigns['coffee20']['id']}/stats"
        ' -H "Authorization: Bearer $OWNER"',
        f"  curl -s {base_url}/api/v1/auth/token -d grant_type=password"
        f" -d client_id=customer-portal -d username={CUSTOMERS[0]} -d password='{DEMO_PASSWORD}'",
        f"  curl -s {base_url}/api/v1/auth/token -d grant_type=client_credentials"
        f" -d client_id={partner['client_id']} -d client_secret={partner['client_secret']}",
        f"  Swagger UI: {base_url}/api/v1/coupons/docs   GraphiQL: {base_url}/graphql/coupons",
        "",
    ]
    return "\n".join(lines)


def _admin_credentials(state_dir: Path) -> tuple[str, str]:
    email = os.environ.get("BOOTSTRAP_ADMIN_EMAIL") or LOCAL_ADMIN_EMAIL
    password = os.environ.get("BOOTSTRAP_ADMIN_PASSWORD")
    if not password:
        password_file = state_dir / "admin-password"
        if not password_file.exists():
            raise SystemExit(f"no {password_file}: start the stack with make run first")
        password = password_file.read_text().strip()
    return email, password


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo")
    port = os.environ.get("PORT", "8000")
    parser.add_argument("--url", default=f"http://127.0.0.1:{port}", help="the stack's gateway")
    args = parser.parse_args(argv)
    state_dir = REPO_ROOT / ".local"
    email, password = _admin_credentials(state_dir)
    async with httpx.AsyncClient(base_url=args.url, timeout=30.0) as http:
        try:
            await http.get("/api/v1/auth/health")
        except httpx.HTTPError:
            raise SystemExit(f"nothing answers at {args.url}: start it with make run") from None
        api = PlatformClient(http)
        admin = await api.sign_in(email, password, "admin-portal")
        world = await build_world(api, admin, state_dir)
        sys.stdout.write(await report(world, args.url))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
