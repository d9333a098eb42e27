"""A campaign's units, split over counter shards (schema_model.CampaignUnitRow).

The claim path takes one unit from one shard (coupons.ISSUE); everything else that moves
quantity (codes, partner shares, a draft's new total, a status change) is rare, and takes
every shard of the campaign in shard order, so two of them never wait on each other in a
cycle and a claim, which holds one shard at most, never waits for one holding another.
"""

from __future__ import annotations

# How many shards a campaign's quantity is split over. Measured (services/svc-coupons
# README, "Where a claim takes its unit"): with 64 clients each claim holding its shard for
# a statement and its commit, 16 shards leave claims queueing; 64 come within reach of a
# pool of one row per unit.
SHARDS = 64


def units_taken(campaign: str) -> str:
    """A scalar subquery: the units taken from the campaign aliased `campaign`, the sum of
    its shards (at most SHARDS rows of one index range)."""
    table = "coupons.campaign_units units"
    return f"(SELECT coalesce(sum(units.taken), 0) FROM {table} WHERE units.campaign_id = {campaign}.id)"  # noqa: S608, E501 (an alias of our own)


# A new campaign's shards: its total quantity (NULL: unlimited) split evenly, the first
# shards one more each for the remainder; closed until it is activated. Migration 0010's
# trigger makes the same ones when the campaign's row is inserted (for the code from before
# the shards, during a deploy), so they may be there already.
ADD_UNITS = f"""
INSERT INTO coupons.campaign_units (campaign_id, shard, capacity, taken, open)
SELECT $1, shard, $2::int / {SHARDS} + CASE WHEN shard < $2::int % {SHARDS} THEN 1 ELSE 0 END,
       0, false
FROM generate_series(0, {SHARDS - 1}) AS shard
ON CONFLICT (campaign_id, shard) DO NOTHING
"""  # noqa: S608 (a constant of this module)

# A draft's new total quantity (NULL: unlimited): what is left of it spread over the shards
# again, each keeping what was taken from it. Nothing when the total is below what was
# taken (the service checked, under the campaign's lock).
RESHAPE_UNITS = """
WITH held AS (
    SELECT shard, taken FROM coupons.campaign_units WHERE campaign_id = $1
    ORDER BY shard FOR UPDATE
), left_over AS (
    SELECT $2::int - sum(taken)::int AS free, count(*)::int AS shards FROM held
)
UPDATE coupons.campaign_units units
SET capacity = CASE WHEN $2::int IS NULL THEN NULL
                    ELSE units.taken + left_over.free / left_over.shards
                         + CASE WHEN units.shard < left_over.free % left_over.shards
                           THEN 1 ELSE 0 END END
FROM left_over
WHERE units.campaign_id = $1 AND ($2::int IS NULL OR left_over.free >= 0)
RETURNING units.shard
"""

# Shards open exactly while the campaign is active; run in the transaction that changes its
# status, after the campaign's row is locked.
OPEN_UNITS = """
WITH held AS (
    SELECT shard FROM coupons.campaign_units WHERE campaign_id = $1 ORDER BY shard FOR UPDATE
)
UPDATE coupons.campaign_units units SET open = $2
FROM held WHERE units.campaign_id = $1 AND units.shard = held.shard
"""


# Before a statement that takes units at once (taking_units), in a statement of its own: the
# campaign's row, locked against status changes, new totals and other such takers, so the
# statement that follows starts after they all committed and reads the shards as they
# left them. (Read in the same statement as the wait, a shard that another taker changed
# meanwhile could be seen as it was.) Claims never wait on it.
LOCK_FOR_UNITS = """
SELECT FROM coupons.campaigns WHERE id = $1 AND status = ANY($2::text[]) FOR NO KEY UPDATE
"""


def taking_units(*, campaign: str, count: str, statuses: str) -> str:
    """CTEs that take `count` units at once (codes, a partner's share) from the campaign
    `campaign` while its status is one of `statuses` (SQL expressions, bound parameters):
    all of them or none, after LOCK_FOR_UNITS. `holder` checks the status under that lock;
    the shards are then taken in order and filled from the first with stock.
    `units_granted` returns the campaign's merchant_id when the units were taken."""
    return f"""
    holder AS (
        SELECT id, merchant_id FROM coupons.campaigns
        WHERE id = {campaign} AND status = ANY({statuses}) FOR SHARE
    ), units_held AS (
        SELECT shard, capacity, taken FROM coupons.campaign_units
        WHERE campaign_id = (SELECT id FROM holder) ORDER BY shard FOR UPDATE
    ), units_free AS (
        SELECT shard, coalesce(capacity - taken, {count}) AS free,
               sum(coalesce(capacity - taken, {count})) OVER (ORDER BY shard) AS through
        FROM units_held
    ), units_moved AS (
        UPDATE coupons.campaign_units units
        SET taken = units.taken + least(units_free.free, {count} - (through - units_free.free))
        FROM units_free
        WHERE units.campaign_id = {campaign} AND units.shard = units_free.shard
          AND through - units_free.free < {count}
          AND (SELECT max(through) FROM units_free) >= {count}
        RETURNING units.shard
    ), units_granted AS (
        SELECT merchant_id FROM holder WHERE EXISTS (SELECT FROM units_moved)
    )"""  # noqa: S608 (SQL of our own; values are bound)
