"""A draft's new total below what its shards gave out is refused, whichever code sets it

The code from before the counter shards checks a new total against campaigns.issued_count,
which the new code no longer adds to (its codes and partner shares take their units from
the shards alone). Migration 0010's trigger then left the shards as they were, so the
campaign's total fell below what was given out while its shards kept their capacity: a
published campaign gave out more than its total. The trigger now fails the statement, as
the old count's CHECK would have had it been kept.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 22:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSING = """
    DECLARE
        free integer;
        shards integer;
    BEGIN
        SELECT NEW.total_quantity - sum(taken)::int, count(*)::int INTO free, shards
        FROM (SELECT taken FROM coupons.campaign_units WHERE campaign_id = NEW.id
              ORDER BY shard FOR UPDATE) AS held;
        IF shards = 0 THEN
            RETURN NULL;
        END IF;
        IF NEW.total_quantity IS NOT NULL AND free < 0 THEN
            RAISE EXCEPTION 'units_below_taken: a total of % is below the % units given out',
                NEW.total_quantity, NEW.total_quantity - free
                USING ERRCODE = 'check_violation';
        END IF;
        UPDATE coupons.campaign_units units
        SET capacity = CASE WHEN NEW.total_quantity IS NULL THEN NULL
                            ELSE units.taken + free / shards
                                 + CASE WHEN units.shard < free % shards THEN 1 ELSE 0 END END
        WHERE units.campaign_id = NEW.id;
        RETURN NULL;
    END
"""

# Migration 0010's body, for the downgrade.
LEAVING = """
    DECLARE
        free integer;
        shards integer;
    BEGIN
        SELECT NEW.total_quantity - sum(taken)::int, count(*)::int INTO free, shards
        FROM (SELECT taken FROM coupons.campaign_units WHERE campaign_id = NEW.id
              ORDER BY shard FOR UPDATE) AS held;
        IF shards > 0 AND (NEW.total_quantity IS NULL OR free >= 0) THEN
            UPDATE coupons.campaign_units units
            SET capacity = CASE WHEN NEW.total_quantity IS NULL THEN NULL
                                ELSE units.taken + free / shards
                                     + CASE WHEN units.shard < free % shards
                                       THEN 1 ELSE 0 END END
            WHERE units.campaign_id = NEW.id;
        END IF;
        RETURN NULL;
    END
"""


def _replace(body: str) -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION coupons.units_follow_total() RETURNS trigger"
        f" LANGUAGE plpgsql AS $${body}$$"
    )


def upgrade() -> None:
    _replace(REFUSING)


def downgrade() -> None:
    _replace(LEAVING)
