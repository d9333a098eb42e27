from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update

from core.database.driver import driver_connection, reading_connection
from core.database.keyset import cursor_position, page_of
from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor
from svc_coupons.repositories.campaigns import campaign_from
from svc_coupons.repositories.schema_model import CampaignRow, CouponRow, platform_tables
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.data_model.coupons import (
    RUNS_OUT,
    CampaignStats,
    CodeRecord,
    Coupon,
    CouponStatus,
    DistributorStats,
    IssueOutcome,
    WalletFilter,
)
from svc_coupons.utils.codes import is_well_formed

# What bulk codes are copied with; the database draws their ids.
COPY_COLUMNS = ("campaign_id", "merchant_id", "code", "status", "created_at")

# Hot-path statements run on the driver connection (core.database.driver).
SELECT_BY_CODE = "SELECT * FROM coupons.coupons WHERE code = $1"
# The campaign comes along as one composite value: a record of its own columns.
SELECT_WITH_CAMPAIGN = """
SELECT coupon.*, campaign AS campaign
FROM coupons.coupons coupon JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
WHERE coupon.code = $1
"""
# A customer's wallet, newest first (CouponRepository.wallet adds its filters and page).
WALLET_SELECT = "SELECT coupon.* FROM coupons.coupons coupon WHERE coupon.owner_user_id = $1"
WALLET_SELECT_RUNNING = (
    "SELECT coupon.* FROM coupons.coupons coupon"
    " JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id"
    " WHERE coupon.owner_user_id = $1"
)
# A claim's decision in one statement: the customer's count, the campaign's unit (each only
# if the one before was granted), the coupon and its event. The campaign row, hot in a flash
# sale, is locked by it until the commit that follows; the outcome row says what was refused.
ISSUE = f"""
WITH slot AS (
    INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed)
    VALUES ($1, $3, 1)
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + 1
    WHERE held.claimed < $5
    RETURNING claimed
), unit AS (
    UPDATE coupons.campaigns SET issued_count = issued_count + 1
    WHERE id = $1 AND EXISTS (SELECT FROM slot) AND status = 'active'
      AND (total_quantity IS NULL OR issued_count + 1 <= total_quantity)
      AND starts_at <= $6 AND ends_at > $6
    RETURNING issued_count
), coupon AS (
    INSERT INTO coupons.coupons
        (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at,
         created_at)
    SELECT $2, $1, $7, $4, $3, 'active', $6, $8, $6 FROM unit
    ON CONFLICT (code) DO NOTHING
    RETURNING *
), {announce(platform_tables.outbox, when="coupon", after=8, versions="coupon")}
SELECT EXISTS (SELECT FROM slot) AS slot_taken, (SELECT issued_count FROM unit) AS issued_count,
       {ANNOUNCED_OUTCOME}, coupon.*
FROM (SELECT) AS outcome LEFT JOIN coupon ON true
"""  # noqa: S608 (only our own table names go in; values are bound)
INSERT_ISSUED = """
INSERT INTO coupons.coupons
    (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at, created_at,
     distributor_merchant_id, allocation_id)
VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $6, $8, $9)
ON CONFLICT (code) DO NOTHING
RETURNING *
"""

# Every distributor of a campaign: its own merchant (claims, staff issues, codes) and each
# partner it allocated to, with what each gave out and what of that was redeemed.
BY_DISTRIBUTOR = """
SELECT distributor.merchant_id,
       count(coupon.id) FILTER (WHERE coupon.owner_user_id IS NOT NULL) AS issued,
       count(coupon.id) FILTER (WHERE coupon.status = 'redeemed') AS redeemed
FROM (SELECT merchant_id FROM coupons.campaigns WHERE id = $1
      UNION SELECT partner_merchant_id FROM coupons.allocations WHERE campaign_id = $1)
     AS distributor
LEFT JOIN coupons.coupons coupon ON coupon.campaign_id = $1
     AND coalesce(coupon.distributor_merchant_id, coupon.merchant_id) = distributor.merchant_id
GROUP BY distributor.merchant_id
ORDER BY issued DESC, distributor.merchant_id
"""


def coupon_from(row: Mapping[str, Any]) -> Coupon:
    """A coupon from its columns: a driver record, or a mapped row's attributes."""
    return Coupon(
        id=row["id"],
        code=row["code"],
        campaign_id=row["campaign_id"],
        merchant_id=row["merchant_id"],
        owner_user_id=row["owner_user_id"],
        stored_status=CouponStatus(row["status"]),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        redeemed_at=row["redeemed_at"],
        version=row["version"],
    )


def freed_coupon(row: Mapping[str, Any]) -> Coupon | None:
    """The coupon a closed listing or transfer held, if it went back to active: not when
    something else (a void) changed it first."""
    if row["id"] is None:
        return None
    coupon = coupon_from(row)
    return coupon if coupon.stored_status is CouponStatus.ACTIVE else None


def to_coupon(row: CouponRow) -> Coupon:
    # A freshly loaded mapped row holds every column in its __dict__.
    return coupon_from(row.__dict__)


def _campaign_running(now: datetime) -> ColumnElement[bool]:
    """The coupon's campaign is active and running at `now`: checked inside the statement
    that changes the coupon, so that a campaign paused or ended since the service looked
    cannot slip through."""
    return exists().where(
        CampaignRow.id == CouponRow.campaign_id,
        CampaignRow.status == CampaignStatus.ACTIVE.value,
        CampaignRow.starts_at <= now,
        CampaignRow.ends_at > now,
    )


class CouponRepository(RepositoryBase[CouponRow]):
    row_type = CouponRow

    async def issue(
        self,
        *,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        limit: int,
        issued_at: datetime,
        expires_at: datetime,
        event: DomainEvent,
    ) -> IssueOutcome:
        row = await OutboxWriter(platform_tables.outbox, self.session).fetchrow(
            ISSUE,
            campaign.id,
            coupon_id,
            owner_user_id,
            code,
            limit,
            issued_at,
            campaign.merchant_id,
            expires_at,
            events=(event,),
        )
        assert row is not None, "the outcome row is always there"
        return IssueOutcome(
            limit_reached=not row["slot_taken"],
            issued_count=row["issued_count"],
            coupon=coupon_from(row) if row["id"] is not None else None,
        )

    async def add_issued(
        self,
        *,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        issued_at: datetime,
        expires_at: datetime,
        distributor_merchant_id: UUID | None = None,
        allocation_id: UUID | None = None,
    ) -> Coupon | None:
        connection = await driver_connection(self.session)
        row = await connection.fetchrow(
            INSERT_ISSUED,
            coupon_id,
            campaign.id,
            campaign.merchant_id,
            code,
            owner_user_id,
            issued_at,
            expires_at,
            distributor_merchant_id,
            allocation_id,
        )
        return coupon_from(row) if row else None

    async def add_unassigned(self, *, campaign: Campaign, codes: list[str], now: datetime) -> bool:
        """COPY into the table, inside the request's transaction: 100k rows in well under a
        second, where INSERTs would take many. A savepoint around it lets a (vanishingly
        rare) code collision be answered by drawing a new batch instead of failing."""
        import asyncpg  # the driver, needed here for its COPY and its error type

        status = CouponStatus.UNASSIGNED.value
        records = [(campaign.id, campaign.merchant_id, code, status, now) for code in codes]
        savepoint = await self.session.begin_nested()
        connection = await self.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        try:
            await raw.copy_records_to_table(
                CouponRow.__tablename__,
                schema_name=CouponRow.__table__.schema,
                columns=COPY_COLUMNS,
                records=records,
            )
        except asyncpg.UniqueViolationError:
            await savepoint.rollback()
            return False
        await savepoint.commit()
        return True

    async def by_code(self, code: str) -> Coupon | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_BY_CODE, code)
        return coupon_from(row) if row else None

    async def get_many(self, coupon_ids: Collection[UUID]) -> list[Coupon]:
        if not coupon_ids:
            return []
        rows = await self.session.execute(select(CouponRow).where(CouponRow.id.in_(coupon_ids)))
        return [to_coupon(row) for row in rows.scalars()]

    async def with_campaign(self, code: str) -> tuple[Coupon, Campaign] | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_WITH_CAMPAIGN, code)
        return (coupon_from(row), campaign_from(row["campaign"])) if row else None

    async def _transition(
        self, coupon_id: UUID, condition: Any, values: dict[str, object]
    ) -> Coupon | None:
        row = (
            await self.session.execute(
                update(CouponRow)
                .where(CouponRow.id == coupon_id, condition)
                .values(**values, version=CouponRow.version + 1)
                .returning(CouponRow)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return to_coupon(row) if row else None

    async def assign(
        self, *, coupon_id: UUID, owner_user_id: UUID, issued_at: datetime, expires_at: datetime
    ) -> Coupon | None:
        return await self._transition(
            coupon_id,
            and_(
                CouponRow.status == CouponStatus.UNASSIGNED.value,
                _campaign_running(issued_at),
            ),
            {
                "owner_user_id": owner_user_id,
                "status": CouponStatus.ACTIVE.value,
                "issued_at": issued_at,
                "expires_at": expires_at,
            },
        )

    async def reinstate(self, *, coupon_id: UUID) -> Coupon | None:
        return await self._transition(
            coupon_id,
            CouponRow.status == CouponStatus.REDEEMED.value,
            {"status": CouponStatus.ACTIVE.value, "redeemed_at": None},
        )

    async def void(
        self,
        *,
        coupon_id: UUID,
        reason: str,
        from_statuses: frozenset[CouponStatus],
        now: datetime,
    ) -> tuple[Coupon, CouponStatus] | None:
        # The status it had is read under the row lock, in the same statement: the one the
        # void changed, whatever happened since the service looked.
        previous = (
            select(CouponRow.id, CouponRow.status)
            .where(CouponRow.id == coupon_id)
            .with_for_update(key_share=True)
            .cte("previous")
        )
        row = (
            await self.session.execute(
                update(CouponRow)
                .where(
                    CouponRow.id == previous.c.id,
                    previous.c.status.in_([s.value for s in from_statuses]),
                )
                .values(
                    status=CouponStatus.VOID.value,
                    voided_at=now,
                    void_reason=reason,
                    version=CouponRow.version + 1,
                )
                .returning(CouponRow, previous.c.status)
                .execution_options(populate_existing=True)
            )
        ).one_or_none()
        if row is None:
            return None
        voided, was = row
        return to_coupon(voided), CouponStatus(was)

    async def wallet(
        self,
        *,
        owner_user_id: UUID,
        wallet_filter: WalletFilter | None,
        now: datetime,
        page: PageRequest,
    ) -> Page[Coupon]:
        # A hot path: one statement on the driver connection (core.database.driver), in
        # a GET without BEGIN and COMMIT; the same filters and order as keyset_page's.
        sql = [WALLET_SELECT]
        args: list[Any] = [owner_user_id]
        if wallet_filter is WalletFilter.ACTIVE:
            # Usable now: unexpired, and its campaign is running (not paused or ended).
            sql[0] = WALLET_SELECT_RUNNING
            args.append(now)
            sql.append(
                f" AND coupon.status = 'active' AND coupon.expires_at > ${len(args)}"
                " AND campaign.status = 'active'"
            )
        elif wallet_filter is WalletFilter.HISTORY:
            args.append(now)
            sql.append(
                " AND (coupon.status IN ('redeemed', 'expired', 'void')"
                " OR (coupon.status IN ('active', 'reserved')"
                f" AND coupon.expires_at <= ${len(args)}))"
            )
        if page.cursor:
            args += cursor_position(page.cursor)
            sql.append(f" AND (coupon.issued_at, coupon.id) < (${len(args) - 1}, ${len(args)})")
        args.append(page.limit + 1)
        sql.append(f" ORDER BY coupon.issued_at DESC, coupon.id DESC LIMIT ${len(args)}")
        async with reading_connection(self.session) as connection:
            rows = await connection.fetch("".join(sql), *args)
        return page_of(
            rows, page, position=lambda row: (row["issued_at"], row["id"]), to_item=coupon_from
        )

    async def unassigned_codes(self, *, campaign_id: UUID, page: PageRequest) -> Page[CodeRecord]:
        query = (
            select(CouponRow.code, CouponRow.created_at)
            .where(
                CouponRow.campaign_id == campaign_id,
                CouponRow.status == CouponStatus.UNASSIGNED.value,
            )
            .order_by(CouponRow.code)
            .limit(page.limit + 1)
        )
        if page.cursor:
            (after,) = decode_cursor(page.cursor, 1)
            if not is_well_formed(after):
                raise InvalidCursor()  # this list's cursors are codes, as stored
            query = query.where(CouponRow.code > after)
        rows = (await self.session.execute(query)).all()
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        return Page(
            items=[CodeRecord(code=r.code, created_at=r.created_at) for r in rows],
            next_cursor=encode_cursor(rows[-1].code) if more else None,
        )

    async def by_distributor(self, campaign_id: UUID) -> list[DistributorStats]:
        async with reading_connection(self.session) as connection:
            rows = await connection.fetch(BY_DISTRIBUTOR, campaign_id)
        return [
            DistributorStats(
                merchant_id=r["merchant_id"], issued=r["issued"], redeemed=r["redeemed"]
            )
            for r in rows
        ]

    async def stats(self, *, campaign_id: UUID, now: datetime) -> CampaignStats:
        status = CouponRow.status
        running = CouponRow.expires_at > now
        # Active and held coupons past their time count as expired, as they read (status_at).
        runs_out = status.in_([s.value for s in RUNS_OUT])
        counts = (
            await self.session.execute(
                select(
                    func.count().filter(CouponRow.owner_user_id.is_not(None)).label("issued"),
                    func.count().filter(status == CouponStatus.REDEEMED.value).label("redeemed"),
                    func.count()
                    .filter(status == CouponStatus.ACTIVE.value, running)
                    .label("active"),
                    func.count()
                    .filter(
                        or_(
                            status == CouponStatus.EXPIRED.value,
                            and_(runs_out, not_(running)),
                        )
                    )
                    .label("expired"),
                    func.count().filter(status == CouponStatus.VOID.value).label("voided"),
                    func.count()
                    .filter(status == CouponStatus.RESERVED.value, running)
                    .label("reserved"),
                    func.count()
                    .filter(status == CouponStatus.UNASSIGNED.value)
                    .label("unassigned"),
                ).where(CouponRow.campaign_id == campaign_id)
            )
        ).one()
        return CampaignStats(
            issued=counts.issued,
            redeemed=counts.redeemed,
            active=counts.active,
            expired=counts.expired,
            voided=counts.voided,
            reserved=counts.reserved,
            unassigned=counts.unassigned,
            by_outlet=(),
        )
