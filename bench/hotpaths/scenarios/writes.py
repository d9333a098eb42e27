"""Write scenarios on one row a request: claim, redeem and token refresh, each request sent
once and the database checked against the answers."""

from __future__ import annotations

import uuid

from loadgen import HttpRequest, WrkRun
from seeding import seed_active_coupons, seed_refresh_tokens

from devstack.testing.api import bearer
from hotpaths.base import BenchError
from hotpaths.database import issued_counts
from hotpaths.harness import (
    LIMITS_COST_TARGET,
    LIMITS_ROUNDS,
    READ_OK,
    Batch,
    Bench,
    LimitsCost,
    Result,
    Side,
    minimal_side,
    ratio_verdict,
    result_of,
    with_limits_pair,
)
from hotpaths.servers import Server
from hotpaths.world import World

CLAIM_TARGET = 0.5
REDEEM_TARGET = 0.5
CLAIMS_PER_CAMPAIGN = 10_000  # a claim round's campaign: one customer may claim this many
ORDER_AMOUNT = 2000


async def scenario_claim(bench: Bench, world: World) -> Result:
    """One customer per server claims again and again from a campaign of its own per run
    (the per-customer limit is at most 10,000), unlimited in quantity."""
    customer = world.customers(1)[0]

    def side(server: Server) -> Side:
        async def batch(n: int) -> Batch:
            n = min(n, CLAIMS_PER_CAMPAIGN)  # the customer's limit on one campaign
            campaign_id = await world.campaign(
                f"Claim {server.name}",
                total_quantity=None,
                per_customer_limit=CLAIMS_PER_CAMPAIGN,
                publish=True,
            )
            if server in (bench.platform, bench.limited, bench.unlimited):
                path, headers = f"/api/v1/campaigns/{campaign_id}/claim", bearer(customer.token)
            else:
                path, headers = f"/campaigns/{campaign_id}/claim", {"X-User-Id": str(customer.id)}

            async def check(run: WrkRun) -> list[str]:
                issued, rows = await issued_counts(bench.db, campaign_id)
                claimed = run.outcomes["201"]
                if claimed == issued == rows == n:
                    return []
                return [f"claim: {claimed} x 201 of {n}; DB units issued {issued}, rows {rows}"]

            return Batch(
                [HttpRequest("POST", path, headers, b"")] * n,
                frozenset({"201"}),
                check,
            )

        return Side(server, batch)

    sides = {
        "platform": side(bench.platform),
        "bare": side(bench.bare),
        "minimal": minimal_side(bench, write=True),
    }
    pair = with_limits_pair(sides, side(bench.limited), side(bench.unlimited))
    runs = await bench.measure("claim", pair, mode="once", rounds=LIMITS_ROUNDS)
    cost = LimitsCost.of(runs)
    return result_of(
        2,
        "Claim: POST /api/v1/campaigns/{id}/claim, one customer, unlimited campaign; "
        "minimal: one conditional UPDATE",
        "claims/s",
        runs,
        target=f">= {CLAIM_TARGET:.2f}x bare, exact, per-caller limits < {LIMITS_COST_TARGET:.0%}",
        verdict=lambda f: ratio_verdict(CLAIM_TARGET)(f) and cost.met,
        notes=[
            "every run: the campaign's units issued (its shards summed) and coupon rows equal "
            "the 201s answered",
            *cost.notes(),
        ],
    )


async def scenario_redeem(bench: Bench, world: World) -> Result:
    """Coupons seeded into one campaign (bench/seeding.py), each redeemed once by the
    merchant's owner at the outlet."""
    campaign_id = uuid.UUID(
        await world.campaign("Redeem", total_quantity=None, per_customer_limit=10_000, publish=True)
    )
    body = {"outlet_id": world.outlet_id, "order_amount": ORDER_AMOUNT}

    def side(server: Server) -> Side:
        async def batch(n: int) -> Batch:
            seeded = await seed_active_coupons(
                bench.db, campaign_id=campaign_id, owner_id=uuid.uuid4(), count=n
            )
            if server is bench.platform:
                requests = [
                    HttpRequest.json(
                        "POST", f"/api/v1/coupons/{code}/redeem", body, bearer(world.owner_token)
                    )
                    for _, code in seeded
                ]
            else:
                requests = [
                    HttpRequest.json("POST", f"/coupons/{code}/redeem", body) for _, code in seeded
                ]

            async def check(run: WrkRun) -> list[str]:
                ids = [coupon_id for coupon_id, _ in seeded]
                row = await bench.db.fetchrow(
                    "SELECT (SELECT count(*) FROM coupons.redemptions WHERE coupon_id = ANY($1)),"
                    " (SELECT count(*) FROM coupons.coupons"
                    "  WHERE id = ANY($1) AND status = 'redeemed')",
                    ids,
                )
                assert row is not None
                if run.outcomes["200"] == row[0] == row[1] == n:
                    return []
                return [
                    f"redeem: {run.outcomes['200']} x 200 of {n}; DB redemptions {row[0]}, "
                    f"coupons redeemed {row[1]}"
                ]

            return Batch(requests, READ_OK, check)

        return Side(server, batch)

    runs = await bench.measure(
        "redeem",
        {
            "platform": side(bench.platform),
            "bare": side(bench.bare),
            "minimal": minimal_side(bench, write=True),
        },
        mode="once",
    )
    return result_of(
        3,
        "Redeem: POST /api/v1/coupons/{code}/redeem by the merchant's owner, each coupon once; "
        "minimal: one conditional UPDATE",
        "redemptions/s",
        runs,
        target=f">= {REDEEM_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(REDEEM_TARGET),
        notes=["every run: redemptions and redeemed coupons equal the 200s answered"],
    )


async def scenario_refresh(bench: Bench, world: World) -> Result:
    """A fresh refresh token per request, seeded like the one the owner's sign-in got."""
    row = await bench.db.fetchrow(
        "SELECT user_id, client_id, scope FROM auth.refresh_tokens WHERE user_id = $1 LIMIT 1",
        uuid.UUID(world.owner_id),
    )
    if row is None:
        raise BenchError("set-up: the owner's sign-in left no refresh token")

    async def batch(n: int) -> Batch:
        tokens = await seed_refresh_tokens(
            bench.db,
            user_id=row["user_id"],
            client_id=row["client_id"],
            scope=row["scope"],
            count=n,
        )
        requests = [
            HttpRequest.form(
                "/api/v1/auth/token",
                {"grant_type": "refresh_token", "refresh_token": t, "client_id": row["client_id"]},
            )
            for t in tokens
        ]

        async def check(run: WrkRun) -> list[str]:
            from svc_auth.utils.opaque import digest

            rotated = await bench.db.fetchval(
                "SELECT count(*) FROM auth.refresh_tokens"
                " WHERE token_hash = ANY($1) AND rotated_at IS NOT NULL AND revoked_at IS NULL",
                [digest(t) for t in tokens],
            )
            if run.outcomes["200"] == rotated == n:
                return []
            return [f"refresh: {run.outcomes['200']} x 200 of {n}; DB rotated {rotated}"]

        return Batch(requests, READ_OK, check)

    runs = await bench.measure(
        "token refresh",
        {"platform": Side(bench.platform, batch), "minimal": minimal_side(bench, write=True)},
        mode="once",
    )
    return result_of(
        6,
        "Token refresh: POST /api/v1/auth/token grant_type=refresh_token, a fresh refresh "
        "token each; minimal: one conditional UPDATE",
        "tokens/s",
        runs,
        target="none (an RS256 signature each)",
        verdict=None,
        notes=["every run: each refresh token answered 200 and rotated, none revoked"],
    )
