"""The baseline of `coupons_bench.py`: FastAPI + asyncpg running the platform's SQL, nothing else.

No auth, no service layers, no ORM, no event delivery, no merchant checks: each endpoint
runs the statements the platform's repositories run for the same request (imported from
them, outbox rows included), on the same tables, with a connection pool as large as the
platform's.
`coupons_bench.py` starts it with uvicorn; it is not part of the platform.

    BENCH_DATABASE_URL=postgresql://... uvicorn bare_app:app --app-dir bench
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import make_url

# The platform's own statements, and its outbox row of an event, imported so that both
# run the same SQL with the same values.
# Lookup: CouponRepository.with_campaign.
# Claim: CampaignRepository.get, then CouponRepository.issue (the customer's count, a unit
# from one of the campaign's counter shards, the coupon and its event in one statement that
# commits by itself; ISSUE_WAITING when every shard with stock was held).
# Redeem: CouponRepository.with_campaign, then RedemptionRepository.redeem (the coupon, the
# redemption and the campaign's count in one statement).
# Transfer accept: TransferRepository.get, then TransferRepository.accept (the transfer, the
# coupon's new owner and code, and two events in one statement).
# Listing accept: ListingRepository.get, CouponRepository.with_campaign for the offered
# coupon, then ListingRepository.accept (both coupons, the listing and three events in one
# statement).
from core.database.engine import tls_pointless
from core.events import DomainEvent
from core.events.outbox import outbox_values
from svc_coupons.repositories import listings, transfers
from svc_coupons.repositories.campaigns import SELECT_CAMPAIGN
from svc_coupons.repositories.coupons import ISSUE, ISSUE_WAITING, SELECT_WITH_CAMPAIGN
from svc_coupons.repositories.redemptions import REDEEM
from svc_coupons.utils.codes import new_code

BARE_ACTOR = "bare-app"
# ISSUE's $9-$14 (the Idempotency-Key's caller, key, claim token and stored answer): the
# bare app's claims carry no key.
NO_IDEMPOTENCY_KEY = (None,) * 6
ISSUE_ATTEMPTS = 5  # the issuing service's CODE_ATTEMPTS


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class RedeemIn(BaseModel):
    outlet_id: UUID
    order_reference: str | None = None
    order_amount: int | None = None


class AcceptTransferIn(BaseModel):
    claim_token: str


class AcceptListingIn(BaseModel):
    offered_coupon_code: str


async def _keep_session(connection: asyncpg.Connection) -> None:
    """On release, as the platform's pool does (SQLAlchemy's reset on return): a transaction
    left open is rolled back (asyncpg does that before calling this), nothing more. asyncpg's
    default would send RESET ALL and more, a round trip per request the platform does not
    make."""


def pool_options() -> dict[str, Any]:
    """The platform's connection settings (core.database.engine): its pool size, no TLS
    attempt on a server on this machine, the pool's reset on return."""
    url = os.environ["BENCH_DATABASE_URL"]
    options: dict[str, Any] = {
        "min_size": int(os.environ.get("BENCH_POOL_MIN", "5")),
        "max_size": int(os.environ.get("BENCH_POOL_MAX", "10")),
        "reset": _keep_session,
    }
    if tls_pointless(make_url(url)):
        options["ssl"] = False
    return options


_POOL: asyncpg.Pool | None = None


async def pool() -> asyncpg.Pool:
    """The process's pool, made on first use: under Mangum (bench/lambda_bench.py) there is
    no lifespan to make it."""
    global _POOL
    if _POOL is None:
        _POOL = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], **pool_options())
    return _POOL


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global _POOL
    await pool()
    try:
        yield
    finally:
        if _POOL is not None:
            await _POOL.close()
            _POOL = None


app = FastAPI(lifespan=lifespan)


@app.exception_handler(Refused)
async def refused(request: Request, exc: Refused) -> JSONResponse:
    return JSONResponse({"status": exc.status, "code": exc.code}, status_code=exc.status)


def _event(event_type: str, coupon_id: UUID, now: datetime, **data: str) -> tuple[Any, ...]:
    """The outbox row the platform's statements write with their change, as the bound
    values they take: the platform's own `outbox_values`, so that the row follows its
    columns whatever they are (BARE_ACTOR: the bare app has no relay, so the bench does not
    wait for these to be delivered)."""
    return outbox_values(
        DomainEvent(
            type=event_type,
            entity_type="coupon",
            entity_id=str(coupon_id),
            actor=BARE_ACTOR,
            data=data,
            source="coupons",
            occurred_at=now,
        )
    )


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


def _summary(campaign: Any) -> dict[str, Any]:
    """A campaign row read along with a coupon, summarised."""
    return _campaign_summary(campaign, campaign["id"], campaign["status"])


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


def _without_code(coupon: dict[str, Any]) -> dict[str, Any]:
    """A coupon as the exchange shows one that is not the caller's: no code, no owner."""
    return {k: v for k, v in coupon.items() if k not in ("code", "owner_user_id", "redeemed_at")}


@app.get("/health")
async def health() -> dict[str, str]:
    async with (await pool()).acquire() as connection:
        await connection.fetchval("SELECT 1")
    return {"status": "ok"}


@app.get("/coupons/{code}")
async def lookup(code: str) -> dict[str, Any]:
    async with (await pool()).acquire() as connection:
        coupon = await connection.fetchrow(SELECT_WITH_CAMPAIGN, code.upper())
    if coupon is None:
        raise Refused(404, "coupon_not_found")
    campaign = coupon["campaign"]
    return _coupon(coupon, _campaign_summary(campaign, campaign["id"], campaign["status"]))


@app.post("/campaigns/{campaign_id}/claim", status_code=201)
async def claim(campaign_id: UUID, x_user_id: UUID = Header()) -> dict[str, Any]:
    now = datetime.now(UTC)
    # No transaction: the campaign's read, then the claim statement, which commits by
    # itself (its customer's count, a unit from one of the campaign's counter shards, the
    # coupon and its event), as the platform runs them.
    async with (await pool()).acquire() as connection:
        campaign = await connection.fetchrow(SELECT_CAMPAIGN, campaign_id)
        if campaign is None:
            raise Refused(404, "campaign_not_found")
        if campaign["status"] != "active" or not campaign["starts_at"] <= now < campaign["ends_at"]:
            raise Refused(409, "campaign_not_active")
        total = campaign["total_quantity"]
        if total is not None and campaign["units_taken"] >= total:
            raise Refused(409, "sold_out")  # the early answer; ISSUE decides
        expires_at = campaign["ends_at"]
        if campaign["validity_days"] is not None:
            expires_at = min(expires_at, now + timedelta(days=campaign["validity_days"]))
        coupon_id = uuid4()
        event = _event("coupon.claimed", coupon_id, now, campaign_id=str(campaign_id))
        for _ in range(ISSUE_ATTEMPTS):
            arguments = (
                campaign_id,
                coupon_id,
                x_user_id,
                new_code(),
                campaign["per_customer_limit"],
                now,
                campaign["merchant_id"],
                expires_at,
                *NO_IDEMPOTENCY_KEY,
                *event,
            )
            try:
                outcome = await connection.fetchrow(ISSUE, *arguments)
                if outcome["id"] is None and outcome["slot_free"] and outcome["stock_left"]:
                    # Every shard with stock was held by another claim's statement: once
                    # more, waiting for one.
                    outcome = await connection.fetchrow(ISSUE_WAITING, *arguments)
                break
            except asyncpg.UniqueViolationError:
                # The customer's first claim raced another of theirs (or the code was
                # taken): nothing of the statement stays; run it again, as the platform does.
                continue
        else:
            raise Refused(409, "claim_raced")
    if not outcome["slot_free"]:
        raise Refused(409, "limit_reached")
    if outcome["id"] is None:
        raise Refused(409, "sold_out")
    return _coupon(outcome, _campaign_summary(campaign, campaign_id, campaign["status"]))


@app.post("/coupons/{code}/redeem")
async def redeem(
    code: str, body: RedeemIn, x_user_id: str = Header(default="bench")
) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with (await pool()).acquire() as connection, connection.transaction():
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


@app.post("/transfers/{transfer_id}/accept")
async def accept_transfer(
    transfer_id: UUID, body: AcceptTransferIn, x_user_id: UUID = Header()
) -> dict[str, Any]:
    now = datetime.now(UTC)
    token_hash = hashlib.sha256(body.claim_token.encode()).hexdigest()
    async with (await pool()).acquire() as connection, connection.transaction():
        found = await connection.fetchrow(transfers.SELECT_TRANSFER, transfer_id)
        if found is None:
            raise Refused(404, "transfer_not_found")
        if not hmac.compare_digest(token_hash, found["claim_token_hash"]):
            raise Refused(403, "invalid_claim_token")
        sender = found["sender_user_id"]
        if sender == x_user_id:
            raise Refused(409, "own_transfer")
        if found["status"] != "pending" or now >= found["expires_at"]:
            raise Refused(409, "transfer_closed")
        coupon_id = found["coupon_id"]
        moved = {
            "transfer_id": str(transfer_id),
            "from_user_id": str(sender),
            "to_user_id": str(x_user_id),
        }
        row = await connection.fetchrow(
            transfers.ACCEPT,
            transfer_id,
            x_user_id,
            token_hash,
            now,
            new_code(),
            *_event("transfer.accepted", coupon_id, now, **moved),
            *_event("coupon.transferred", coupon_id, now, via="transfer", **moved),
        )
        if row["id"] is None:
            raise Refused(409, "code_collision" if row["code_taken"] else "transfer_closed")
    return _coupon(row, _summary(found["campaign"]))


@app.post("/listings/{listing_id}/accept")
async def accept_listing(
    listing_id: UUID, body: AcceptListingIn, x_user_id: UUID = Header()
) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with (await pool()).acquire() as connection, connection.transaction():
        found = await connection.fetchrow(listings.SELECT_LISTING, listing_id)
        if found is None:
            raise Refused(404, "listing_not_found")
        owner = found["owner_user_id"]
        if owner == x_user_id:
            raise Refused(409, "own_listing")
        listed = found["coupon"]
        if found["status"] != "open" or listed["status"] != "reserved":
            raise Refused(409, "listing_closed")
        offered = await connection.fetchrow(SELECT_WITH_CAMPAIGN, body.offered_coupon_code.upper())
        if offered is None or offered["owner_user_id"] != x_user_id:
            raise Refused(404, "coupon_not_found")
        if offered["status"] != "active":
            raise Refused(409, "coupon_not_active")
        if not offered["campaign"]["tradable"]:
            raise Refused(409, "not_tradable")
        swapped = {"listing_id": str(listing_id), "via": "listing"}
        row = await connection.fetchrow(
            listings.ACCEPT,
            listing_id,
            x_user_id,
            offered["id"],
            now,
            new_code(),
            new_code(),
            *_event(
                "listing.accepted",
                listed["id"],
                now,
                listing_id=str(listing_id),
                offered_coupon_id=str(offered["id"]),
                accepted_by_user_id=str(x_user_id),
            ),
            *_event(
                "coupon.transferred",
                listed["id"],
                now,
                from_user_id=str(owner),
                to_user_id=str(x_user_id),
                **swapped,
            ),
            *_event(
                "coupon.transferred",
                offered["id"],
                now,
                from_user_id=str(x_user_id),
                to_user_id=str(owner),
                **swapped,
            ),
        )
        if row["received"] is None or row["given"] is None:
            refused = "code_collision" if row["code_taken"] else "listing_closed"
            raise Refused(409, refused)
    received = _coupon(row["received"], _summary(found["campaign"]))
    return {
        "received": received,
        "given": _without_code(_coupon(row["given"], _summary(offered["campaign"]))),
        "listing": {
            "id": listing_id,
            "status": "accepted",
            "owner_user_id": owner,
            "coupon": _without_code(received),
            "wants": {
                "campaign_id": found["wants_campaign_id"],
                "merchant_id": found["wants_merchant_id"],
            },
            "created_at": found["created_at"],
            "closed_at": now,
        },
    }
