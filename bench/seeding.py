"""Rows written straight into the platform's tables, for scenarios that use up one per request.

A redeem or a token refresh consumes what it acts on: tens of thousands of coupons or
refresh tokens per run, which through the API would take longer to make than to measure
(each refresh token from a password grant costs an Argon2 hash). They are written here as
the platform's own statements would leave them: a coupon as CouponRepository's ISSUE
writes it (with the units taken from the campaign's counter shards, as the platform's own
statement for taking several at once takes them, and the customer's claim count), a refresh
token as RefreshTokenRepository.add stores it (only its SHA-256 digest, opaque.digest).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from svc_auth.utils import opaque
from svc_coupons.repositories.campaign_units import LOCK_FOR_UNITS
from svc_coupons.repositories.campaigns import TAKE_UNITS
from svc_coupons.utils.codes import new_codes

INSERT_COUPONS = """
INSERT INTO coupons.coupons
    (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at,
     created_at)
SELECT seeded.id, campaign.id, campaign.merchant_id, seeded.code, $2, 'active', $3,
       campaign.ends_at, $3
FROM coupons.campaigns campaign, unnest($4::uuid[], $5::text[]) AS seeded(id, code)
WHERE campaign.id = $1
"""
# The campaign's units: taken from its counter shards by CampaignRepository.take_units'
# statement ($1 campaign, $2 count, $3 the statuses it may have), after the campaign's lock.
COUNT_ISSUED = TAKE_UNITS
LOCK_CAMPAIGN = LOCK_FOR_UNITS
SEEDED_FROM = ["active", "paused"]
COUNT_CLAIMED = """
INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed) VALUES ($1, $2, $3)
ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + $3
"""
INSERT_REFRESH_TOKENS = """
INSERT INTO auth.refresh_tokens
    (id, token_hash, family_id, user_id, client_id, scope, issued_at, expires_at)
SELECT gen_random_uuid(), seeded.token_hash, gen_random_uuid(), $1, $2, $3, $4, $5
FROM unnest($6::text[]) AS seeded(token_hash)
"""


async def seed_active_coupons(
    db: asyncpg.Connection, *, campaign_id: uuid.UUID, owner_id: uuid.UUID, count: int
) -> list[tuple[uuid.UUID, str]]:
    """`count` active coupons of the campaign, the owner's: their ids and codes."""
    codes = new_codes(count)
    ids = [uuid.uuid4() for _ in codes]
    now = datetime.now(UTC)
    async with db.transaction():
        inserted = await db.execute(INSERT_COUPONS, campaign_id, owner_id, now, ids, codes)
        if inserted != f"INSERT 0 {count}":
            raise RuntimeError(f"seeding coupons: {inserted}, not {count}")
        await db.execute(LOCK_CAMPAIGN, campaign_id, SEEDED_FROM)
        if not await db.fetchval(COUNT_ISSUED, campaign_id, count, SEEDED_FROM):
            raise RuntimeError(f"seeding coupons: the campaign has no {count} units left")
        await db.execute(COUNT_CLAIMED, campaign_id, owner_id, count)
    return list(zip(ids, codes, strict=True))


async def seed_refresh_tokens(
    db: asyncpg.Connection, *, user_id: uuid.UUID, client_id: str, scope: str, count: int
) -> list[str]:
    """`count` unused refresh tokens of the user for the client, each of a family of its
    own: the tokens themselves (the table keeps their digests)."""
    tokens = [opaque.new_secret() for _ in range(count)]
    now = datetime.now(UTC)
    await db.execute(
        INSERT_REFRESH_TOKENS,
        user_id,
        client_id,
        scope,
        now,
        now + timedelta(days=1),
        [opaque.digest(token) for token in tokens],
    )
    return tokens
