"""The exchange's scenarios: transfer accept and listing accept (the swap), each gift or
listing made through the API beforehand and accepted once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from itertools import islice
from typing import TypeVar

from loadgen import HttpRequest, WrkRun

from devstack.testing.api import bearer
from hotpaths.base import progress
from hotpaths.harness import (
    EXCHANGE_WARMUP,
    READ_OK,
    ROUNDS,
    Batch,
    Bench,
    Result,
    Side,
    minimal_side,
    ratio_verdict,
    result_of,
)
from hotpaths.servers import Server
from hotpaths.world import (
    SEED_CUSTOMERS,
    Gift,
    Offer,
    World,
    give_coupons,
    list_coupons,
    seed_coupons,
)

TRANSFER_TARGET = 0.5
SWAP_TARGET = 0.5
EXCHANGE_CAMPAIGNS = 32  # campaigns the exchange's coupons are claimed from, in turn


Item = TypeVar("Item")


def exchange_sides(
    bench: Bench,
    items: Sequence[Item],
    per_server: int,
    request: Callable[[Item, bool], HttpRequest],
    check: Callable[[list[Item], WrkRun], Awaitable[list[str]]],
) -> dict[str, Side]:
    """An exchange scenario's servers: the platform and the bare app each accept their own
    `per_server` of `items`, each once (`request(item, on_the_platform)`; `check` verifies a
    batch against the database), and the minimal app runs its write."""
    pools = {"platform": iter(items[:per_server]), "bare": iter(items[per_server:])}

    def side(server: Server, key: str) -> Side:
        async def batch(n: int) -> Batch:
            mine = list(islice(pools[key], n))

            async def checked(run: WrkRun) -> list[str]:
                return await check(mine, run)

            requests = [request(item, server is bench.platform) for item in mine]
            return Batch(requests, READ_OK, checked)

        return Side(server, batch)

    return {
        "platform": side(bench.platform, "platform"),
        "bare": side(bench.bare, "bare"),
        "minimal": minimal_side(bench, write=True),
    }


async def scenario_transfer(bench: Bench, world: World, accepts: int) -> Result:
    """Gifts made through the platform's API, accepted each once."""
    per_round = accepts // ROUNDS
    per_server = EXCHANGE_WARMUP + ROUNDS * per_round
    senders = world.customers(SEED_CUSTOMERS)
    progress(f"transfer accept: seeding {2 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        bench.platform, world, 2 * per_server, customers=senders, campaigns=EXCHANGE_CAMPAIGNS
    )
    progress(f"transfer accept: {2 * per_server} gifts through POST .../transfers")
    gifts = await give_coupons(bench.platform, coupons, world.customers(SEED_CUSTOMERS))

    def accept(g: Gift, platform: bool) -> HttpRequest:
        body = {"claim_token": g.claim_token}
        if platform:
            path, headers = f"/api/v1/transfers/{g.transfer_id}/accept", bearer(g.recipient.token)
        else:
            path, headers = f"/transfers/{g.transfer_id}/accept", {"X-User-Id": str(g.recipient.id)}
        return HttpRequest.json("POST", path, body, headers)

    async def check(mine: list[Gift], run: WrkRun) -> list[str]:
        row = await bench.db.fetchrow(
            "SELECT count(*) FILTER (WHERE transfer.status = 'accepted' "
            "  AND transfer.recipient_user_id = gift.recipient"
            "  AND transfer.closed_at IS NOT NULL),"
            " count(*) FILTER (WHERE coupon.owner_user_id = gift.recipient "
            "  AND coupon.code <> gift.old_code AND coupon.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::text[])"
            "  AS gift(transfer_id, recipient, old_code)"
            " JOIN coupons.transfers transfer ON transfer.id = gift.transfer_id"
            " JOIN coupons.coupons coupon ON coupon.id = transfer.coupon_id",
            [uuid.UUID(g.transfer_id) for g in mine],
            [g.recipient.id for g in mine],
            [g.coupon.code for g in mine],
        )
        assert row is not None
        if run.outcomes["200"] == row[0] == row[1] == len(mine):
            return []
        return [
            f"transfer accept: {run.outcomes['200']} x 200 of {len(mine)}; DB accepted "
            f"{row[0]}, coupons the recipient's under a new code {row[1]}"
        ]

    runs = await bench.measure(
        "transfer accept",
        exchange_sides(bench, gifts, per_server, accept, check),
        mode="once",
        fixed=per_round,
    )
    return result_of(
        7,
        f"Transfer accept: POST /api/v1/transfers/{{id}}/accept with the claim token, "
        f"{per_round} distinct gifts a round; minimal: one conditional UPDATE",
        "accepts/s",
        runs,
        target=f">= {TRANSFER_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(TRANSFER_TARGET),
        notes=[
            "every run: each transfer accepted by its recipient, the coupon theirs under a new code"
        ],
    )


async def scenario_swap(bench: Bench, world: World, accepts: int) -> Result:
    """Listings made through the platform's API, each accepted once by a customer offering
    a coupon of their own."""
    per_round = accepts // ROUNDS
    per_server = EXCHANGE_WARMUP + ROUNDS * per_round
    listers = world.customers(SEED_CUSTOMERS)
    takers = world.customers(SEED_CUSTOMERS)
    progress(f"listing accept: seeding {4 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        bench.platform,
        world,
        4 * per_server,
        # Listers' and takers' coupons alternate: [0::2] are the listers', [1::2] the takers'.
        customers=[c for pair in zip(listers, takers, strict=True) for c in pair],
        campaigns=EXCHANGE_CAMPAIGNS,
    )
    progress(f"listing accept: {2 * per_server} listings through POST /api/v1/exchange/listings")
    offers = await list_coupons(bench.platform, coupons[0::2], coupons[1::2])

    def accept(o: Offer, platform: bool) -> HttpRequest:
        body = {"offered_coupon_code": o.offered.code}
        if platform:
            path = f"/api/v1/exchange/listings/{o.listing_id}/accept"
            headers = bearer(o.offered.owner_token)
        else:
            path, headers = f"/listings/{o.listing_id}/accept", {"X-User-Id": o.offered.owner_id}
        return HttpRequest.json("POST", path, body, headers)

    async def check(mine: list[Offer], run: WrkRun) -> list[str]:
        row = await bench.db.fetchrow(
            "SELECT count(*) FILTER (WHERE listing.status = 'accepted'"
            "  AND listing.accepted_by_user_id = swap.taker"
            "  AND listing.offered_coupon_id = swap.offered_id),"
            " count(*) FILTER (WHERE listed.owner_user_id = swap.taker"
            "  AND listed.code <> swap.listed_code AND listed.status = 'active'),"
            " count(*) FILTER (WHERE offered.owner_user_id = swap.lister"
            "  AND offered.code <> swap.offered_code AND offered.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[],"
            "  $6::text[])"
            "  AS swap(listing_id, lister, taker, offered_id, listed_code, offered_code)"
            " JOIN coupons.listings listing ON listing.id = swap.listing_id"
            " JOIN coupons.coupons listed ON listed.id = listing.coupon_id"
            " JOIN coupons.coupons offered ON offered.id = swap.offered_id",
            [uuid.UUID(o.listing_id) for o in mine],
            [uuid.UUID(o.listed.owner_id) for o in mine],
            [uuid.UUID(o.offered.owner_id) for o in mine],
            [uuid.UUID(o.offered.id) for o in mine],
            [o.listed.code for o in mine],
            [o.offered.code for o in mine],
        )
        assert row is not None
        if run.outcomes["200"] == row[0] == row[1] == row[2] == len(mine):
            return []
        return [
            f"listing accept: {run.outcomes['200']} x 200 of {len(mine)}; DB accepted "
            f"{row[0]}, listed coupons the taker's {row[1]}, offered the lister's "
            f"{row[2]}"
        ]

    runs = await bench.measure(
        "listing accept",
        exchange_sides(bench, offers, per_server, accept, check),
        mode="once",
        fixed=per_round,
    )
    return result_of(
        8,
        f"Listing accept (swap): POST /api/v1/exchange/listings/{{id}}/accept offering a "
        f"coupon, {per_round} distinct listings a round; minimal: one conditional UPDATE",
        "swaps/s",
        runs,
        target=f">= {SWAP_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(SWAP_TARGET),
        notes=["every run: both coupons of each swap changed hands under new codes"],
    )
