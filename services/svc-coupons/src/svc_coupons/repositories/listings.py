"""The swap marketplace: each decision one statement on the driver connection, its events
in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, select

from core.database.driver import driver_connection, reading_connection
from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from core.pagination import Page, PageRequest
from svc_coupons.repositories.campaign_units import units_taken
from svc_coupons.repositories.campaigns import CAMPAIGN_RUNS, campaign_from
from svc_coupons.repositories.coupons import coupon_from, freed_coupon
from svc_coupons.repositories.customer_limits import receiving
from svc_coupons.repositories.schema_model import CouponRow, ListingRow, platform_tables
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import Coupon, CouponStatus
from svc_coupons.services.data_model.exchange import Listing, ListingStatus, SwapOutcome, Wants

_OUTBOX = platform_tables.outbox

SELECT_LISTING = f"""
SELECT listing.*, coupon AS coupon, campaign AS campaign,
       {units_taken("campaign")} AS units_taken
FROM coupons.listings listing
JOIN coupons.coupons coupon ON coupon.id = listing.coupon_id
JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
WHERE listing.id = $1
"""  # noqa: S608 (SQL of our own; values are bound)
# Listing: the owner's active, unexpired coupon of a tradable campaign that still runs
# (active or paused) is held, and the listing recorded with it. Any other state of the
# coupon or its campaign changes nothing.
CREATE = f"""
WITH held AS (
    UPDATE coupons.coupons coupon SET status = 'reserved', version = coupon.version + 1
    WHERE coupon.id = $2 AND coupon.owner_user_id = $3 AND coupon.status = 'active'
      AND coupon.expires_at > $6
      AND EXISTS (SELECT FROM coupons.campaigns campaign
                  WHERE campaign.id = coupon.campaign_id AND campaign.tradable
                    AND {CAMPAIGN_RUNS})
    RETURNING coupon.*
), listing AS (
    INSERT INTO coupons.listings (id, coupon_id, owner_user_id, campaign_id, merchant_id,
        wants_campaign_id, wants_merchant_id, status, created_at)
    SELECT $1, id, $3, campaign_id, merchant_id, $4, $5, 'open', $6 FROM held
    RETURNING id
), {announce(_OUTBOX, when="listing", after=6, versions="held")}
SELECT held.*, {ANNOUNCED_OUTCOME} FROM held
"""  # noqa: S608 (only our own table names go in; values are bound)
# The swap, all or nothing. The open listing is locked first (of concurrent accepts one
# goes on; the others wait, then find it closed and change nothing), then its held,
# unexpired coupon, then the offered one: the taker's own, active, unexpired, of a tradable
# campaign, and matching what the listing wants. Both coupons' campaigns must still run
# (active or paused), read in this statement. Only when all three hold and neither new
# code is taken, and each side is under the per-customer limit of the campaign it receives
# from (counted here, as a claim is, both counters in one statement in the order of
# (campaign, customer): two swaps crossing between the same two customers take the same
# two counters, and taken in any other order each could hold the one the other waits for),
# do both coupons change owner and code, and the listing close. A refused count rolls back
# with the request, so a count taken for one side alone never stays. Two coupons of one campaign
# swapped leave both sides holding what they held: that swap counts for neither.
ACCEPT = f"""
WITH listing AS (
    SELECT id, coupon_id, owner_user_id, wants_campaign_id, wants_merchant_id
    FROM coupons.listings
    WHERE id = $1 AND status = 'open' AND owner_user_id <> $2
    FOR UPDATE
), listed AS (
    SELECT coupon.id, coupon.campaign_id
    FROM coupons.coupons coupon JOIN listing ON coupon.id = listing.coupon_id
    JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
    WHERE coupon.status = 'reserved' AND coupon.expires_at > $4 AND {CAMPAIGN_RUNS}
    FOR UPDATE OF coupon
), offered AS (
    SELECT coupon.id, coupon.campaign_id FROM coupons.coupons coupon
    JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
    JOIN listing ON true
    WHERE coupon.id = $3 AND coupon.owner_user_id = $2 AND coupon.status = 'active'
      AND coupon.expires_at > $4 AND campaign.tradable AND {CAMPAIGN_RUNS}
      AND (listing.wants_campaign_id IS NULL OR coupon.campaign_id = listing.wants_campaign_id)
      AND (listing.wants_merchant_id IS NULL OR coupon.merchant_id = listing.wants_merchant_id)
    FOR UPDATE OF coupon
), deal AS (
    SELECT FROM listing, listed, offered
    WHERE NOT EXISTS (SELECT FROM coupons.coupons taken WHERE taken.code IN ($5, $6))
), crossing AS (
    SELECT listed.campaign_id AS to_taker, offered.campaign_id AS to_owner
    FROM listed, offered, deal WHERE listed.campaign_id <> offered.campaign_id
), counted AS ({
    receiving(
        '''(SELECT to_taker AS campaign_id, $2::uuid AS user_id FROM crossing
            UNION ALL
            SELECT to_owner, listing.owner_user_id FROM crossing, listing) AS gets''',
        user="gets.user_id",
        order_by="campaign_id, user_id",
    )
}
), sealed AS (
    SELECT FROM deal
    WHERE (SELECT count(*) FROM counted) = 2 OR NOT EXISTS (SELECT FROM crossing)
), moved AS (
    UPDATE coupons.coupons coupon SET owner_user_id = swap.owner, code = swap.code,
        status = 'active', version = coupon.version + 1
    FROM (SELECT listed.id, $2::uuid AS owner, $5::text AS code FROM listed
          UNION ALL
          SELECT offered.id, listing.owner_user_id, $6::text FROM offered, listing) AS swap
    WHERE coupon.id = swap.id AND EXISTS (SELECT FROM sealed)
    RETURNING coupon.id, coupon.version, coupon AS coupon_row
), accepted AS (
    UPDATE coupons.listings SET status = 'accepted', closed_at = $4, accepted_by_user_id = $2,
        offered_coupon_id = $3
    WHERE id = $1 AND EXISTS (SELECT FROM sealed)
), {announce(_OUTBOX, when="sealed", after=6, events=3, versions="moved")}
SELECT EXISTS (SELECT FROM listing) AS listing_open,
       EXISTS (SELECT FROM listed) AS listed_held,
       EXISTS (SELECT FROM offered) AS offer_fits,
       EXISTS (SELECT FROM coupons.coupons taken WHERE taken.code IN ($5, $6)) AS code_taken,
       EXISTS (SELECT FROM deal) AND NOT EXISTS (SELECT FROM sealed) AS limit_reached,
       {ANNOUNCED_OUTCOME},
       (SELECT coupon_row FROM moved WHERE id <> $3) AS received,
       (SELECT coupon_row FROM moved WHERE id = $3) AS given
"""  # noqa: S608 (only our own table names go in; values are bound)
# Closing an open listing (cancelled by its owner, or expired with its coupon): its coupon,
# if still held, is the owner's active coupon again (reading as expired past its time).
CLOSE = f"""
WITH closed AS (
    UPDATE coupons.listings SET status = $4, closed_at = $3
    WHERE id = $1 AND owner_user_id = $2 AND status = 'open'
    RETURNING coupon_id
), freed AS (
    -- The coupon's history gains the event whether or not the coupon was still held (a
    -- void may have come first): its version moves either way, so that the event is
    -- ordered after whatever changed the coupon before.
    UPDATE coupons.coupons coupon
    SET status = CASE WHEN coupon.status = 'reserved' THEN 'active' ELSE coupon.status END,
        version = coupon.version + 1
    FROM closed WHERE coupon.id = closed.coupon_id
    RETURNING coupon.*
), {announce(_OUTBOX, when="closed", after=4, versions="freed")}
SELECT {ANNOUNCED_OUTCOME}, freed.*
FROM (SELECT) AS outcome LEFT JOIN freed ON true
"""  # noqa: S608 (only our own table names go in; values are bound)
# Open listings whose held coupon ran out, locked for closing (other sweeps skip them).
EXPIRED = """
SELECT listing.* FROM coupons.listings listing
JOIN coupons.coupons coupon ON coupon.id = listing.coupon_id
WHERE listing.status = 'open' AND coupon.status = 'reserved' AND coupon.expires_at <= $1
ORDER BY listing.created_at LIMIT $2
FOR UPDATE OF listing SKIP LOCKED
"""


def listing_from(row: Mapping[str, Any]) -> Listing:
    return Listing(
        id=row["id"],
        coupon_id=row["coupon_id"],
        owner_user_id=row["owner_user_id"],
        campaign_id=row["campaign_id"],
        merchant_id=row["merchant_id"],
        wants=Wants(campaign_id=row["wants_campaign_id"], merchant_id=row["wants_merchant_id"]),
        stored_status=ListingStatus(row["status"]),
        created_at=row["created_at"],
        closed_at=row["closed_at"],
        accepted_by_user_id=row["accepted_by_user_id"],
        offered_coupon_id=row["offered_coupon_id"],
    )


def _to_listing(row: ListingRow) -> Listing:
    return listing_from(row.__dict__)


class ListingRepository(RepositoryBase[ListingRow]):
    row_type = ListingRow

    def _outbox(self) -> OutboxWriter:
        return OutboxWriter(_OUTBOX, self.session)

    async def get(self, listing_id: UUID) -> tuple[Listing, Coupon, Campaign] | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_LISTING, listing_id)
        if row is None:
            return None
        return (
            listing_from(row),
            coupon_from(row["coupon"]),
            campaign_from(row["campaign"], issued_count=row["units_taken"]),
        )

    async def create(
        self, *, listing_id: UUID, coupon: Coupon, wants: Wants, now: datetime, event: DomainEvent
    ) -> Coupon | None:
        row = await self._outbox().fetchrow(
            CREATE,
            listing_id,
            coupon.id,
            coupon.owner_user_id,
            wants.campaign_id,
            wants.merchant_id,
            now,
            events=(event,),
        )
        return coupon_from(row) if row else None

    async def accept(
        self,
        *,
        listing_id: UUID,
        taker_user_id: UUID,
        offered_coupon_id: UUID,
        code_for_taker: str,
        code_for_owner: str,
        now: datetime,
        events: Sequence[DomainEvent],
    ) -> SwapOutcome:
        row = await self._outbox().fetchrow(
            ACCEPT,
            listing_id,
            taker_user_id,
            offered_coupon_id,
            now,
            code_for_taker,
            code_for_owner,
            events=events,
        )
        assert row is not None, "the outcome row is always there"
        return SwapOutcome(
            listing_open=row["listing_open"],
            listed_held=row["listed_held"],
            offer_fits=row["offer_fits"],
            code_taken=row["code_taken"],
            limit_reached=row["limit_reached"],
            received=coupon_from(row["received"]) if row["received"] is not None else None,
            given=coupon_from(row["given"]) if row["given"] is not None else None,
        )

    async def close(
        self, *, listing: Listing, status: ListingStatus, now: datetime, event: DomainEvent
    ) -> tuple[bool, Coupon | None]:
        """(whether the open listing closed, the coupon it freed if it still held it)."""
        row = await self._outbox().fetchrow(
            CLOSE, listing.id, listing.owner_user_id, now, status.value, events=(event,)
        )
        assert row is not None, "the outcome row is always there"
        return bool(row["announced"]), freed_coupon(row)

    async def expired(self, *, now: datetime, limit: int) -> list[Listing]:
        connection = await driver_connection(self.session)
        return [listing_from(row) for row in await connection.fetch(EXPIRED, now, limit)]

    async def open_listings(
        self,
        *,
        campaign_id: UUID | None,
        merchant_id: UUID | None,
        now: datetime,
        page: PageRequest,
    ) -> Page[Listing]:
        """Open listings whose coupon is still held and unexpired, newest first."""
        query = select(ListingRow).where(
            ListingRow.status == ListingStatus.OPEN.value,
            exists().where(
                CouponRow.id == ListingRow.coupon_id,
                CouponRow.status == CouponStatus.RESERVED.value,
                CouponRow.expires_at > now,
            ),
        )
        if campaign_id is not None:
            query = query.where(ListingRow.campaign_id == campaign_id)
        if merchant_id is not None:
            query = query.where(ListingRow.merchant_id == merchant_id)
        return await keyset_page(
            self.session,
            query,
            moment=ListingRow.created_at,
            row_id=ListingRow.id,
            page=page,
            to_item=_to_listing,
            newest_first=True,
        )

    async def of_owner(self, *, owner_user_id: UUID, page: PageRequest) -> Page[Listing]:
        return await keyset_page(
            self.session,
            select(ListingRow).where(ListingRow.owner_user_id == owner_user_id),
            moment=ListingRow.created_at,
            row_id=ListingRow.id,
            page=page,
            to_item=_to_listing,
            newest_first=True,
        )
