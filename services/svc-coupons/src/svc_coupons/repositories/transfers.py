"""Gift transfers: each decision one statement on the driver connection, its events in it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select

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
from svc_coupons.repositories.schema_model import TransferRow, platform_tables
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import Coupon
from svc_coupons.services.data_model.exchange import GiftOutcome, Transfer, TransferStatus

_OUTBOX = platform_tables.outbox

SELECT_TRANSFER = f"""
SELECT transfer.*, coupon AS coupon, campaign AS campaign,
       {units_taken("campaign")} AS units_taken
FROM coupons.transfers transfer
JOIN coupons.coupons coupon ON coupon.id = transfer.coupon_id
JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
WHERE transfer.id = $1
"""  # noqa: S608 (SQL of our own; values are bound)
# The gift: the owner's active, unexpired coupon of a transferable campaign that still runs
# (active or paused) is held, and the transfer recorded with it. Any other state of the
# coupon or its campaign changes nothing.
CREATE = f"""
WITH held AS (
    UPDATE coupons.coupons coupon SET status = 'reserved', version = coupon.version + 1
    WHERE coupon.id = $2 AND coupon.owner_user_id = $3 AND coupon.status = 'active'
      AND coupon.expires_at > $6
      AND EXISTS (SELECT FROM coupons.campaigns campaign
                  WHERE campaign.id = coupon.campaign_id AND campaign.transferable
                    AND {CAMPAIGN_RUNS})
    RETURNING coupon.*
), transfer AS (
    INSERT INTO coupons.transfers (id, coupon_id, sender_user_id, claim_token_hash,
        idempotency_key, status, created_at, expires_at)
    SELECT $1, id, $3, $4, $5, 'pending', $6, $7 FROM held
    RETURNING id
), {announce(_OUTBOX, when="transfer", after=7, versions="held")}
SELECT held.*, {ANNOUNCED_OUTCOME} FROM held
"""  # noqa: S608 (only our own table names go in; values are bound)
# The acceptance: the pending, unexpired transfer whose token hash matches is locked (a
# concurrent accept or cancel waits, then finds it closed); its held, unexpired coupon goes
# to the recipient under a new code, unless that code is taken (then nothing changes and
# the caller draws another), only while its campaign still runs (active or paused), and only
# when the recipient is under the campaign's per-customer limit (counted here, as a claim
# is). The transfer closes only when the coupon moved.
ACCEPT = f"""
WITH offer AS (
    SELECT id, coupon_id FROM coupons.transfers
    WHERE id = $1 AND status = 'pending' AND expires_at > $4 AND claim_token_hash = $3
      AND sender_user_id <> $2
    FOR UPDATE
), movable AS (
    SELECT coupon.id, coupon.campaign_id FROM coupons.coupons coupon
    JOIN offer ON coupon.id = offer.coupon_id
    JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
    WHERE coupon.status = 'reserved' AND coupon.expires_at > $4 AND {CAMPAIGN_RUNS}
      AND NOT EXISTS (SELECT FROM coupons.coupons taken WHERE taken.code = $5)
    FOR UPDATE OF coupon
), counted AS ({receiving("movable", user="$2::uuid")}
), moved AS (
    UPDATE coupons.coupons coupon SET owner_user_id = $2, code = $5, status = 'active',
        version = coupon.version + 1
    FROM movable WHERE coupon.id = movable.id AND EXISTS (SELECT FROM counted)
    RETURNING coupon.*
), accepted AS (
    UPDATE coupons.transfers transfer SET status = 'accepted', recipient_user_id = $2,
        closed_at = $4
    FROM moved WHERE transfer.id = $1
), {announce(_OUTBOX, when="moved", after=5, events=2, versions="moved")}
SELECT EXISTS (SELECT FROM offer) AS offered,
       EXISTS (SELECT FROM coupons.coupons taken WHERE taken.code = $5) AS code_taken,
       EXISTS (SELECT FROM movable) AND NOT EXISTS (SELECT FROM counted) AS limit_reached,
       {ANNOUNCED_OUTCOME}, moved.*
FROM (SELECT) AS outcome LEFT JOIN moved ON true
"""  # noqa: S608 (only our own table names go in; values are bound)
# Closing a pending transfer (cancelled by its sender, or lapsed): its coupon, if still
# held, is active again in the sender's wallet.
CLOSE = f"""
WITH closed AS (
    UPDATE coupons.transfers SET status = $3, closed_at = $4
    WHERE id = $1 AND sender_user_id = $2 AND status = 'pending'
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
# A rotation the sender asked for: the pending, unexpired transfer of a coupon that has not
# run out (a gift whose coupon did reads expired before the sweep closes it) still at the
# generation the caller read moves to the next, with the new token's hash. An accept holding the old
# token, running at the same time, either closes the transfer first (then this changes
# nothing) or waits on the row and then finds no transfer with its hash.
ROTATE = f"""
WITH rotated AS (
    UPDATE coupons.transfers
    SET claim_token_generation = claim_token_generation + 1, claim_token_hash = $3
    WHERE id = $1 AND claim_token_generation = $2 AND status = 'pending' AND expires_at > $4
      AND EXISTS (SELECT FROM coupons.coupons coupon
                  WHERE coupon.id = coupon_id AND coupon.expires_at > $4)
    RETURNING id
), {announce(_OUTBOX, when="rotated", after=4)}
SELECT EXISTS (SELECT FROM rotated) AS rotated, {ANNOUNCED_OUTCOME}
"""  # noqa: S608 (only our own table names go in; values are bound)
# Pending transfers that lapsed, or whose coupon ran out while they waited.
LAPSED = """
SELECT transfer.* FROM coupons.transfers transfer
JOIN coupons.coupons coupon ON coupon.id = transfer.coupon_id
WHERE transfer.status = 'pending' AND (transfer.expires_at <= $1 OR coupon.expires_at <= $1)
ORDER BY transfer.expires_at LIMIT $2
FOR UPDATE OF transfer SKIP LOCKED
"""


def transfer_from(row: Mapping[str, Any]) -> Transfer:
    return Transfer(
        id=row["id"],
        coupon_id=row["coupon_id"],
        sender_user_id=row["sender_user_id"],
        recipient_user_id=row["recipient_user_id"],
        claim_token_hash=row["claim_token_hash"],
        claim_token_generation=row["claim_token_generation"],
        idempotency_key=row["idempotency_key"],
        stored_status=TransferStatus(row["status"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        closed_at=row["closed_at"],
    )


def _to_transfer(row: TransferRow) -> Transfer:
    return transfer_from(row.__dict__)


class TransferRepository(RepositoryBase[TransferRow]):
    row_type = TransferRow

    def _outbox(self) -> OutboxWriter:
        return OutboxWriter(_OUTBOX, self.session)

    async def get(self, transfer_id: UUID) -> tuple[Transfer, Coupon, Campaign] | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_TRANSFER, transfer_id)
        if row is None:
            return None
        return (
            transfer_from(row),
            coupon_from(row["coupon"]),
            campaign_from(row["campaign"], issued_count=row["units_taken"]),
        )

    async def by_idempotency_key(self, *, sender_user_id: UUID, key: str) -> Transfer | None:
        row = (
            await self.session.execute(
                select(TransferRow).where(
                    TransferRow.sender_user_id == sender_user_id,
                    TransferRow.idempotency_key == key,
                )
            )
        ).scalar_one_or_none()
        return _to_transfer(row) if row else None

    async def create(
        self,
        *,
        transfer_id: UUID,
        coupon: Coupon,
        claim_token_hash: str,
        idempotency_key: str | None,
        now: datetime,
        expires_at: datetime,
        event: DomainEvent,
    ) -> Coupon | None:
        row = await self._outbox().fetchrow(
            CREATE,
            transfer_id,
            coupon.id,
            coupon.owner_user_id,
            claim_token_hash,
            idempotency_key,
            now,
            expires_at,
            events=(event,),
        )
        return coupon_from(row) if row else None

    async def rotate_token(
        self,
        *,
        transfer_id: UUID,
        from_generation: int,
        claim_token_hash: str,
        now: datetime,
        event: DomainEvent,
    ) -> bool:
        row = await self._outbox().fetchrow(
            ROTATE, transfer_id, from_generation, claim_token_hash, now, events=(event,)
        )
        assert row is not None, "the outcome row is always there"
        return bool(row["rotated"])

    async def forget_idempotency_key(self, *, transfer_id: UUID) -> None:
        connection = await driver_connection(self.session)
        await connection.execute(
            "UPDATE coupons.transfers SET idempotency_key = NULL WHERE id = $1", transfer_id
        )

    async def accept(
        self,
        *,
        transfer_id: UUID,
        recipient_user_id: UUID,
        claim_token_hash: str,
        new_code: str,
        now: datetime,
        events: Sequence[DomainEvent],
    ) -> GiftOutcome:
        row = await self._outbox().fetchrow(
            ACCEPT,
            transfer_id,
            recipient_user_id,
            claim_token_hash,
            now,
            new_code,
            events=events,
        )
        assert row is not None, "the outcome row is always there"
        moved = coupon_from(row) if row["id"] is not None else None
        return GiftOutcome(
            code_taken=bool(row["offered"] and row["code_taken"] and moved is None),
            limit_reached=bool(row["limit_reached"]),
            coupon=moved,
        )

    async def close(
        self,
        *,
        transfer: Transfer,
        status: TransferStatus,
        now: datetime,
        event: DomainEvent,
    ) -> tuple[bool, Coupon | None]:
        """(whether the pending transfer closed, the coupon it freed if it still held it)."""
        row = await self._outbox().fetchrow(
            CLOSE, transfer.id, transfer.sender_user_id, status.value, now, events=(event,)
        )
        assert row is not None, "the outcome row is always there"
        return bool(row["announced"]), freed_coupon(row)

    async def lapsed(self, *, now: datetime, limit: int) -> list[Transfer]:
        """Pending transfers past their time or their coupon's, locked for closing (other
        sweeps skip them)."""
        connection = await driver_connection(self.session)
        return [transfer_from(row) for row in await connection.fetch(LAPSED, now, limit)]

    async def of_user(
        self, *, user_id: UUID, role: str | None, page: PageRequest
    ) -> Page[Transfer]:
        """Transfers the customer sent (`sent`), received (`received`), or either."""
        sent = TransferRow.sender_user_id == user_id
        received = TransferRow.recipient_user_id == user_id
        where = sent if role == "sent" else received if role == "received" else or_(sent, received)
        return await keyset_page(
            self.session,
            select(TransferRow).where(where),
            moment=TransferRow.created_at,
            row_id=TransferRow.id,
            page=page,
            to_item=_to_transfer,
            newest_first=True,
        )
