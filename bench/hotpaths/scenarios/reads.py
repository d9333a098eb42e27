"""Read scenarios: lookup by code, the wallet, and svc-auth's /me."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from loadgen import HttpRequest

from devstack.testing.api import bearer
from hotpaths.harness import (
    LIMITS_COST_TARGET,
    LIMITS_ROUNDS,
    Bench,
    Figures,
    LimitsCost,
    Result,
    Side,
    cycle_of,
    minimal_side,
    result_of,
    with_limits_pair,
)
from hotpaths.world import WALLET_COUPONS, Coupon, Customer

LOOKUP_TARGET = 0.6  # platform requests/s >= 0.6x bare
LOOKUP_P99_MS = 20.0  # and its p99 below this
CPU_VS_LOOKUP = 2.0  # wallet, me: server CPU/request <= 2x lookup's


async def scenario_lookup(bench: Bench, coupons: Sequence[Coupon]) -> Result:
    platform = [
        HttpRequest("GET", f"/api/v1/coupons/{c.code}", bearer(c.owner_token)) for c in coupons
    ]
    bare = [HttpRequest("GET", f"/coupons/{c.code}") for c in coupons]
    sides = {
        "platform": Side(bench.platform, cycle_of(platform)),
        "bare": Side(bench.bare, cycle_of(bare)),
        "minimal": minimal_side(bench, write=False),
    }
    pair = with_limits_pair(
        sides, Side(bench.limited, cycle_of(platform)), Side(bench.unlimited, cycle_of(platform))
    )
    runs = await bench.measure("lookup", pair, mode="cycle", rounds=LIMITS_ROUNDS)
    cost = LimitsCost.of(runs)

    def verdict(f: dict[str, Figures]) -> bool:
        p = f["platform"]
        return p.rate / f["bare"].rate >= LOOKUP_TARGET and p.p99 < LOOKUP_P99_MS and cost.met

    return result_of(
        1,
        f"Lookup: GET /api/v1/coupons/{{code}} with the owner's token, {len(coupons)} coupons "
        "in turn; minimal: a primary-key read",
        "requests/s",
        runs,
        target=f">= {LOOKUP_TARGET:.2f}x bare, p99 < {LOOKUP_P99_MS:.0f} ms, "
        f"per-caller limits < {LIMITS_COST_TARGET:.0%}",
        verdict=verdict,
        notes=cost.notes(),
    )


def cpu_target(lookup_ms: float) -> tuple[str, Callable[[dict[str, Figures]], bool] | None]:
    """The target against lookup's CPU per request, and its verdict; none when lookup did
    not run (`--only` without it)."""
    if math.isnan(lookup_ms):
        return f"CPU <= {CPU_VS_LOOKUP:.0f}x lookup's (lookup not run)", None
    return (
        f"CPU <= {CPU_VS_LOOKUP:.0f}x lookup's ({lookup_ms:.2f} ms)",
        lambda f: f["platform"].server_ms <= CPU_VS_LOOKUP * lookup_ms,
    )


async def scenario_wallet(bench: Bench, customers: Sequence[Customer], lookup_ms: float) -> Result:
    requests = [HttpRequest("GET", "/api/v1/wallet", bearer(c.token)) for c in customers]
    runs = await bench.measure(
        "wallet",
        {
            "platform": Side(bench.platform, cycle_of(requests)),
            "minimal": minimal_side(bench, write=False),
        },
        mode="cycle",
    )
    target, verdict = cpu_target(lookup_ms)
    return result_of(
        4,
        f"Wallet: GET /api/v1/wallet by {len(customers)} customers of {WALLET_COUPONS} coupons "
        "each; minimal: a primary-key read",
        "requests/s",
        runs,
        target=target,
        verdict=verdict,
    )


async def scenario_me(bench: Bench, access_tokens: Sequence[str], lookup_ms: float) -> Result:
    requests = [HttpRequest("GET", "/api/v1/auth/me", bearer(t)) for t in access_tokens]
    runs = await bench.measure(
        "me",
        {
            "platform": Side(bench.platform, cycle_of(requests)),
            "minimal": minimal_side(bench, write=False),
        },
        mode="cycle",
    )
    target, verdict = cpu_target(lookup_ms)
    return result_of(
        5,
        f"Me: GET /api/v1/auth/me, {len(access_tokens)} access tokens svc-auth issued to a "
        "merchant owner; minimal: a primary-key read",
        "requests/s",
        runs,
        target=target,
        verdict=verdict,
    )
