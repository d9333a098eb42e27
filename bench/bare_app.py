"""The baseline of `coupons_bench.py`: FastAPI + asyncpg running the platform's SQL, nothing else.

No auth, no service layers, no ORM, no event delivery, no merchant checks: each endpoint
runs the statements the platform's repositories run for the same request (imported from
them, outbox rows included), on the same tables, with a connection pool as large as the
platform's.
`coupons_bench.py` starts it with uvicorn; it is not part of the platform.

    BENCH_DATABASE_URL=postgresql://... uvicorn bare_app:app --app-dir bench
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

# The platform's own statements, imported so that both run the same SQL.
# Lookup: CouponRepository.with_campaign.
# Claim: CampaignRepository.get, then CouponRepository.issue (the customer's count, the
# campaign's unit and the coupon in one statement).
# Redeem: CouponRepository.with_campaign, then RedemptionRepository.redeem (the coupon, the
# redemption and the campaign's count in one statement).
from svc_coupons.repositories.campaigns import SELECT_CAMPAIGN
from svc_coupons.repositories.coupons import ISSUE, SELECT_WITH_CAMPAIGN
from svc_coupons.repositories.redemptions import REDEEM

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BARE_ACTOR = "bare-app"


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class RedeemIn(BaseModel):
    outlet_id: UUID
    order_reference: str | None = None
    order_amount: int | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"],
        min_size=int(os.environ.get("BENCH_POOL_MIN", "5")),
        max_size=int(os.environ.get("BENCH_POOL_MAX", "10")),
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.exception_handler(Refused)
async def refused(request: Request, exc: Refused) -> JSONResponse:
    return JSONResponse({"status": exc.status, "code": exc.code}, status_code=exc.status)


def _event(event_type: str, coupon_id: UUID, now: datetime, **data: str) -> tuple[Any, ...]:
    """The outbox row the platform's statements write with their change (BARE_ACTOR: the
    bare app has no relay, so the bench does not wait for these to be delivered)."""
    document = json.dumps(data, separators=(",", ":"))
    return (uuid4(), event_type, "coupon", str(coupon_id), BARE_ACTOR, now, document)


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _campaign_summary(row: Any, campaign_id: UUID, status: str) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "merchant_id": row["merchant_id"],
        "title": row["title"],
        "status": status,
        "discount_type": row["discount_type"],
        "discount_value": row["discount_value"],
        "currency": row["currency"],
        "min_spend": row["min_spend"],
        "ends_at": row["ends_at"],
        "outlet_ids": row["outlet_ids"],
        "transferable": row["transferable"],
        "tradable": row["tradable"],
    }


def _coupon(row: Any, campaign: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "campaign_id": row["campaign_id"],
        "merchant_id": row["merchant_id"],
        "owner_user_id": row["owner_user_id"],
        "status": row["status"],
        "issued_at": row["issued_at"],
        "expires_at": row["expires_at"],
        "redeemed_at": row["redeemed_at"],
        "campaign": campaign,
    }


@app.get("/health")
async def health(request: Request) -> dict[str, str]:
    async with _pool(request).acquire() as connection:
        await connection.fetchval("SELECT 1")
    return {"status": "ok"}


@app.get("/coupons/{code}")
async def lookup(code: str, request: Request) -> dict[str, Any]:
    async with _pool(request).acquire() as connection:
        coupon = await connection.fetchrow(SELECT_WITH_CAMPAIGN, code.upper())
    if coupon is None:
        raise Refused(404, "coupon_not_found")
    campaign = coupon["campaign"]
    return _coupon(coupon, _campaign_summary(campaign, campaign["id"], campaign["status"]))


@app.post("/campaigns/{campaign_id}/claim", status_code=201)
async def claim(campaign_id: UUID, request: Request, x_user_id: UUID = Header()) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with _pool(request).acquire() as connection, connection.transaction():
        campaign = await connection.fetchrow(SELECT_CAMPAIGN, campaign_id)
        if campaign is None:
            raise Refused(404, "campaign_not_found")
        if campaign["status"] != "active" or not campaign["starts_at"] <= now < campaign["ends_at"]:
            raise Refused(409, "campaign_not_active")
        total = campaign["total_quantity"]
        if total is not None and campaign["issued_count"] >= total:
            raise Refused(409, "sold_out")  # the early answer; ISSUE decides
        expires_at = campaign["ends_at"]
        if campaign["validity_days"] is not None:
            expires_at = min(expires_at, now + timedelta(days=campaign["validity_days"]))
        code = "".join(secrets.choice(ALPHABET) for _ in range(12))
        coupon_id = uuid4()
        outcome = await connection.fetchrow(
            ISSUE,
            campaign_id,
            coupon_id,
            x_user_id,
            code,
            campaign["per_customer_limit"],
            now,
            campaign["merchant_id"],
            expires_at,
            *_event("coupon.claimed", coupon_id, now, campaign_id=str(campaign_id)),
        )
        # Raised inside the transaction: whatever the statement took is rolled back.
        if not outcome["slot_taken"]:
            raise Refused(409, "limit_reached")
        if outcome["issued_count"] is None:
            raise Refused(409, "sold_out")
        if outcome["id"] is None:
            raise Refused(409, "code_collision")  # 2^-59: never seen in a benchmark
    return _coupon(outcome, _campaign_summary(campaign, campaign_id, campaign["status"]))


@app.post("/coupons/{code}/redeem")
async def redeem(
    code: str, body: RedeemIn, request: Request, x_user_id: str = Header(default="bench")
) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with _pool(request).acquire() as connection, connection.transaction():
        found = await connection.fetchrow(SELECT_WITH_CAMPAIGN, code.upper())
        if found is None:
            raise Refused(404, "coupon_not_found")
        campaign = found["campaign"]
        discount: int | None
        if campaign["discount_type"] == "percentage":
            discount = (
                None
                if body.order_amount is None
                else body.order_amount * campaign["discount_value"] // 100
            )
        else:
            discount = min(
                campaign["discount_value"], body.order_amount or campaign["discount_value"]
            )
        redemption_id = uuid4()
        row = await connection.fetchrow(
            REDEEM,
            found["id"],
            now,
            redemption_id,
            body.outlet_id,
            body.order_reference,
            body.order_amount,
            discount,
            x_user_id,
            found["code"],
            *_event("coupon.redeemed", found["id"], now, redemption_id=str(redemption_id)),
        )
        if row is None:
            raise Refused(409, "already_redeemed")
    return {
        "redemption_id": redemption_id,
        "coupon": _coupon(row, _campaign_summary(campaign, campaign["id"], campaign["status"])),
        "discount_amount": discount,
        "redeemed_at": now,
        "outlet_id": body.outlet_id,
        "order_reference": body.order_reference,
        "order_amount": body.order_amount,
    }
