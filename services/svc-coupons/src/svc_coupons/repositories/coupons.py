from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update

from core.database.driver import (
    COMMITTED_ALONE,
    driver_connection,
    reading_connection,
    statement_connection,
)
from core.database.keyset import cursor_position, page_of
from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from core.idempotency import completed_after_the_work, statement_answer
from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor
from svc_coupons.repositories.campaign_units import units_taken
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
SELECT_WITH_CAMPAIGN = f"""
SELECT coupon.*, campaign AS campaign, {units_taken("campaign")} AS units_taken
FROM coupons.coupons coupon JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id
WHERE coupon.code = $1
"""  # noqa: S608 (SQL of our own; values are bound)
# A customer's wallet, newest first (CouponRepository.wallet adds its filters and page).
WALLET_SELECT = "SELECT coupon.* FROM coupons.coupons coupon WHERE coupon.owner_user_id = $1"
WALLET_SELECT_RUNNING = (
    "SELECT coupon.* FROM coupons.coupons coupon"
    " JOIN coupons.campaigns campaign ON campaign.id = coupon.campaign_id"
    " WHERE coupon.owner_user_id = $1"
)
_KEYS = platform_tables.idempotency_keys
# A claim's decision in one statement, which commits by itself (no BEGIN: the unit of
# work has only read; core.database.driver.statement_connection): the rows claims contend
# for are locked by it and released by its own commit, with no round trip in between.
#   1. The request's Idempotency-Key, if it has one ($9 caller, $10 key, $11 claim token),
#      still held by this request (core.idempotency: a request that stalled past the
#      takeover changes nothing), and the customer's count ($3) under the limit ($5): both
#      rows locked first, in that order.
#   2. One unit from one open shard with stock (repositories/campaign_units.py): ISSUE
#      takes a random one not locked by another claim, and never waits. When every shard
#      with stock was locked (`stock_left` without a coupon), the service asks again,
#      waiting: ISSUE_WAITING waits for one shard with stock drawn at random (the shard
#      locked by its primary key, no other), so that waiting claims spread over the shards
#      instead of queueing on the first; when that one was emptied meanwhile, and only
#      then, ISSUE_WAITING_IN_ORDER waits for the first with stock in shard order, so that
#      units left are never answered as sold out. Waiting for more than one shard only in its own
#      statement, and then only in shard order (as every statement that takes several
#      shards takes them), is what keeps claims out of lock cycles: a shard locked and then
#      found sold out (changed since the statement's snapshot) stays locked by the
#      statement until its commit, so a statement that had skipped to a random shard and
#      then waited for another could close one. (A statement that commits by itself has
#      released its random shard before the one in order; inside a request's transaction
#      it has not, so there the wait is in order at once.)
#   3. The customer's count: a first claim inserts it (a concurrent first claim of the same
#      customer makes that a unique violation: the statement fails whole and is run again,
#      and then finds the row to lock), a later one adds one under the lock of 1.
#   4. The coupon ($2, code $4, chosen by the service; a code already taken is a unique
#      violation too, and the service draws another), its event ($15...), and the key's
#      answer ($12 status, $13 sealed body, $14 media type), built by the service before
#      the statement from the values it chose, stored only if the coupon was inserted.
# The outcome row says what was refused; coupon.* is NULL then.
_ISSUE = f"""
WITH key_held AS (
    SELECT FROM {_KEYS.schema}.{_KEYS.name}
    WHERE caller = $9 AND key = $10 AND claim_token = $11 AND state = 'in_progress'
    FOR UPDATE
), held_count AS (
    SELECT claimed FROM coupons.customer_claims WHERE campaign_id = $1 AND user_id = $3
    FOR UPDATE
), decided AS (
    SELECT ($9::text IS NULL OR EXISTS (SELECT FROM key_held)) AS key_held,
           coalesce((SELECT claimed FROM held_count), 0) < $5 AS slot_free,
           EXISTS (SELECT FROM coupons.campaigns campaign WHERE campaign.id = $1
                   AND campaign.starts_at <= $6 AND campaign.ends_at > $6) AS running
), pick AS (
    SELECT shard FROM coupons.campaign_units
    WHERE campaign_id = $1 AND open AND (capacity IS NULL OR taken < capacity)
      AND (SELECT key_held AND slot_free AND running FROM decided)
    {{order}}
), unit AS (
    UPDATE coupons.campaign_units units SET taken = units.taken + 1
    WHERE units.campaign_id = $1 AND units.shard = (SELECT shard FROM pick)
      AND units.open AND (units.capacity IS NULL OR units.taken < units.capacity)
    RETURNING units.shard
), first_count AS (
    INSERT INTO coupons.customer_claims (campaign_id, user_id, claimed)
    SELECT $1, $3, 1 FROM unit WHERE NOT EXISTS (SELECT FROM held_count)
    RETURNING claimed
), next_count AS (
    UPDATE coupons.customer_claims SET claimed = claimed + 1
    WHERE campaign_id = $1 AND user_id = $3
      AND EXISTS (SELECT FROM held_count) AND EXISTS (SELECT FROM unit)
    RETURNING claimed
), coupon AS (
    INSERT INTO coupons.coupons
        (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at,
         created_at)
    SELECT $2, $1, $7, $4, $3, 'active', $6, $8, $6 FROM unit
    RETURNING *
), {announce(platform_tables.outbox, when="coupon", after=14, versions="coupon")},
answered AS (
    UPDATE {_KEYS.schema}.{_KEYS.name}
    SET state = 'completed', response_status = $12, response_body = $13,
        response_media_type = $14
    WHERE caller = $9 AND key = $10 AND claim_token = $11 AND state = 'in_progress'
      AND EXISTS (SELECT FROM coupon)
    RETURNING key
)
SELECT decided.key_held, decided.slot_free, EXISTS (SELECT FROM answered) AS answered,
       -- Looked for only when no coupon was inserted (a CASE evaluates what it needs).
       CASE WHEN EXISTS (SELECT FROM coupon) THEN NULL
            ELSE EXISTS (SELECT FROM coupons.campaign_units WHERE campaign_id = $1 AND open
                         AND (capacity IS NULL OR taken < capacity)) END AS stock_left,
       {ANNOUNCED_OUTCOME}, coupon.*
FROM decided LEFT JOIN coupon ON true
"""  # noqa: S608 (only our own table names go in; values are bound)
ISSUE = _ISSUE.format(order="ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED")
# The shard waited for is the stocked one that comes first in an order drawn from the new
# coupon's id ($2, random): the same on every evaluation. A subquery choosing by random()
# is evaluated again when PostgreSQL rechecks the row it waited for (rewritten meanwhile),
# and then names another shard, and the statement takes nothing.
ISSUE_WAITING = _ISSUE.format(
    order="AND shard = (SELECT shard FROM coupons.campaign_units WHERE campaign_id = $1"
    " AND open AND (capacity IS NULL OR taken < capacity)"
    " ORDER BY hashtext(shard::text || $2::uuid::text) LIMIT 1)"
    " FOR UPDATE"
)
ISSUE_WAITING_IN_ORDER = _ISSUE.format(order="ORDER BY shard LIMIT 1 FOR UPDATE")
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
        answer: object,
        wait: bool = False,
    ) -> IssueOutcome:
        """ISSUE (with `wait`, ISSUE_WAITING, then ISSUE_WAITING_IN_ORDER if still needed),
        as a statement that commits by itself when the request has written nothing before
        it. `answer`: what the request answers if the coupon is issued, stored with it for
        its Idempotency-Key, if it has one (core.idempotency.StatementAnswer)."""
        import asyncpg  # the driver, for its error type

        statements = [ISSUE]
        if wait:
            # The claim's ISSUE ran before: whether it committed by itself says whether
            # this one will, and may wait for a random shard first (above ISSUE).
            alone = bool(self.session.info.get(COMMITTED_ALONE))
            statements = (
                [ISSUE_WAITING, ISSUE_WAITING_IN_ORDER] if alone else [ISSUE_WAITING_IN_ORDER]
            )
        completion = statement_answer(self.session)
        key: tuple[object, ...] = (None,) * 6
        if completion is not None:
            key = completion.parameters(answer)
        elif completed_after_the_work(self.session):
            # Its key is completed after this statement (a GraphQL claim): in one
            # transaction with it, so the statement must not commit by itself.
            await driver_connection(self.session)
        row: Any = None
        for statement in statements:
            try:
                async with statement_connection(self.session) as connection:
                    row = await OutboxWriter(platform_tables.outbox, self.session).fetchrow(
                        statement,
                        campaign.id,
                        coupon_id,
                        owner_user_id,
                        code,
                        limit,
                        issued_at,
                        campaign.merchant_id,
                        expires_at,
                        *key,
                        events=(event,),
                        connection=connection,
                    )
            except asyncpg.UniqueViolationError:
                # The code was taken, or the customer's first claim raced another: nothing
                # of the statement stays; the service runs it again (with a new code).
                return IssueOutcome(
                    limit_reached=False, issued_count=None, coupon=None, run_again=True
                )
            assert row is not None, "the outcome row is always there"
            if row["id"] is not None or not row["slot_free"] or not row["stock_left"]:
                break
        if row["answered"] and completion is not None:
            completion.answered(self.session)
        issued = row["id"] is not None
        return IssueOutcome(
            limit_reached=not row["slot_free"],
            # What the campaign's read before the statement counted, and this unit: the
            # shards are not summed again on the hot path.
            issued_count=campaign.issued_count + 1 if issued else None,
            coupon=coupon_from(row) if issued else None,
            key_lost=not row["key_held"],
            busy=not issued and bool(row["slot_free"]) and bool(row["stock_left"]),
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
        if row is None:
            return None
        return coupon_from(row), campaign_from(row["campaign"], issued_count=row["units_taken"])

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
