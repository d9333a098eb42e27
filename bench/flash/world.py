"""What the loads run against: blocks of campaigns, coupons to look up, and their counts.

Campaigns are written straight into svc-coupons' table (as its create and publish leave
an active one), numbered: campaign `i`'s id is designs.campaign_id(i), which the scripts
compute from `:campaign` too. Every measured run takes a fresh block, so its counts start
at zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from .designs import MERCHANT_ID, PER_CUSTOMER_LIMIT, Design, campaign_id

LOOKUP_COUPONS = 1000
LOOKUP_CODE = "'FLASHLOOKUP' || lpad(({number})::text, 5, '0')"  # 16 characters

INSERT_CAMPAIGNS = """
INSERT INTO coupons.campaigns
    (id, merchant_id, title, discount_type, discount_value, total_quantity, per_customer_limit,
     starts_at, ends_at, outlet_ids, transferable, tradable, status, issued_count, created_by,
     created_at, updated_at)
SELECT md5('flash-campaign-' || i)::uuid, $1, 'Flash ' || i, 'percentage', 10, $4, $5,
       now() - interval '1 hour', now() + interval '30 days', '{}', true, true, 'active', 0,
       'bench', now(), now()
FROM generate_series($2::int, $3::int) AS i
"""
INSERT_LOOKUP_COUPONS = f"""
INSERT INTO coupons.coupons
    (campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at, created_at)
SELECT $1, $2, {LOOKUP_CODE.format(number="i")}, gen_random_uuid(), 'active', now(),
       now() + interval '30 days', now()
FROM generate_series(1, $3::int) AS i
"""  # noqa: S608 (our own expression; values bound)
ROWS_AND_EVENTS = """
SELECT (SELECT count(*) FROM coupons.coupons WHERE campaign_id = ANY($1::uuid[])),
       (SELECT count(*) FROM coupons.outbox WHERE type = 'coupon.claimed'
          AND (data->>'campaign_id')::uuid = ANY($1::uuid[]))
"""


@dataclass(frozen=True)
class Block:
    """Campaigns first .. first + count - 1."""

    first: int
    count: int
    design: Design  # whose set-up the campaigns have, and who counts their units

    @property
    def ids(self) -> list[UUID]:
        return [campaign_id(i) for i in range(self.first, self.first + self.count)]

    @property
    def variables(self) -> dict[str, int | str]:
        return {"first": self.first, "count": self.count}


@dataclass(frozen=True)
class Counts:
    issued: int  # the campaigns' units issued, as their design counts them
    rows: int  # their coupon rows
    events: int  # their coupon.claimed outbox rows


class World:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db
        self._next = 1

    async def campaigns(
        self, design: Design, count: int, *, total: int | None = None, issued: int = 0
    ) -> Block:
        """`count` new active campaigns of `total` units (None: unlimited), `issued` of them
        already taken, each set up as the design needs (its counter shards...)."""
        block = Block(self._next, count, design)
        self._next += count
        last = block.first + count - 1
        async with self.db.transaction():
            await self.db.execute(
                INSERT_CAMPAIGNS, MERCHANT_ID, block.first, last, total, PER_CUSTOMER_LIMIT
            )
            for campaign in block.ids:
                for statement, arguments in design.campaign_setup(campaign, total, issued):
                    await self.db.execute(statement, *arguments)
        return block

    async def lookup_coupons(self, design: Design) -> None:
        """LOOKUP_COUPONS active coupons whose codes LOOKUP_CODE makes of 1..LOOKUP_COUPONS."""
        block = await self.campaigns(design, 1)
        await self.db.execute(INSERT_LOOKUP_COUPONS, block.ids[0], MERCHANT_ID, LOOKUP_COUPONS)

    async def counts(self, block: Block) -> Counts:
        issued = await self.db.fetchval(block.design.count_issued, block.ids)
        row = await self.db.fetchrow(ROWS_AND_EVENTS, block.ids)
        assert row is not None
        return Counts(int(issued), int(row[0]), int(row[1]))
