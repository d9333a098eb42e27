"""What the code from before the counter shards still writes during a deploy is kept in them

The migration runs before the new code takes traffic; until then, and for as long as an
old function version answers, claims, codes and partner shares still count in
campaigns.issued_count, campaigns are still created without shards, and their statuses
and totals still change without them. Triggers carry each of those writes into the shards,
so that a unit is taken once whichever code takes it: an old claim takes its unit from the
shards too, or is refused as sold out when they hold none (never oversold). A later
migration drops them with the issued_count column, once no function from before 0009 can
run (services/svc-coupons/README.md, "Where a claim takes its unit").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:55:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0009's: the number of shards this migration's triggers create for a new campaign.
SHARDS = 64

FUNCTIONS = {
    # An old statement that adds to issued_count (a claim: 1; codes or a partner's share: n)
    # takes as many units from the shards, filling from the first with stock, all or none:
    # when they hold too few, the row is left unchanged, which the old statement reads as
    # sold out. The shards are locked in shard order, as every taker of several does.
    "units_follow_issued_count": """
        DECLARE
            wanted integer := NEW.issued_count - OLD.issued_count;
            unit record;
            take integer;
        BEGIN
            IF (SELECT bool_or(capacity IS NULL) OR coalesce(sum(capacity - taken), 0) >= wanted
                FROM (SELECT capacity, taken FROM coupons.campaign_units
                      WHERE campaign_id = NEW.id ORDER BY shard FOR UPDATE) AS held) IS NOT TRUE
            THEN
                RETURN NULL;
            END IF;
            FOR unit IN SELECT shard, capacity, taken FROM coupons.campaign_units
                        WHERE campaign_id = NEW.id ORDER BY shard LOOP
                take := CASE WHEN unit.capacity IS NULL THEN wanted
                             ELSE least(wanted, unit.capacity - unit.taken) END;
                IF take > 0 THEN
                    UPDATE coupons.campaign_units SET taken = taken + take
                    WHERE campaign_id = NEW.id AND shard = unit.shard;
                    wanted := wanted - take;
                END IF;
                EXIT WHEN wanted = 0;
            END LOOP;
            RETURN NEW;
        END
    """,
    # A campaign created by the old code gets its shards, closed, as the new code's
    # ADD_UNITS makes them (which then finds them made).
    "units_for_new_campaign": f"""
        BEGIN
            INSERT INTO coupons.campaign_units (campaign_id, shard, capacity, taken, open)
            SELECT NEW.id, shard,
                   NEW.total_quantity / {SHARDS}
                   + CASE WHEN shard < NEW.total_quantity % {SHARDS} THEN 1 ELSE 0 END,
                   0, NEW.status = 'active'
            FROM generate_series(0, {SHARDS - 1}) AS shard
            ON CONFLICT (campaign_id, shard) DO NOTHING;
            RETURN NULL;
        END
    """,  # noqa: S608 (constants of this file)
    # The shards are open exactly while the campaign is active, whichever code changed it.
    "units_follow_status": """
        BEGIN
            UPDATE coupons.campaign_units units SET open = NEW.status = 'active'
            FROM (SELECT shard FROM coupons.campaign_units WHERE campaign_id = NEW.id
                  ORDER BY shard FOR UPDATE) AS held
            WHERE units.campaign_id = NEW.id AND units.shard = held.shard
              AND units.open IS DISTINCT FROM (NEW.status = 'active');
            RETURN NULL;
        END
    """,
    # A draft's new total, whichever code set it: what is left spread over the shards again
    # (as RESHAPE_UNITS does). The old code checked it against its old count, which no
    # longer sees the new code's codes and shares: a total below what the shards gave out
    # fails the statement, as the old count's CHECK would have.
    "units_follow_total": """
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
                                     + CASE WHEN units.shard < free % shards
                                       THEN 1 ELSE 0 END END
            WHERE units.campaign_id = NEW.id;
            RETURN NULL;
        END
    """,
}

TRIGGERS = {
    "units_follow_issued_count": (
        "BEFORE UPDATE OF issued_count",
        "WHEN (NEW.issued_count > OLD.issued_count)",
    ),
    "units_for_new_campaign": ("AFTER INSERT", ""),
    "units_follow_status": (
        "AFTER UPDATE OF status",
        "WHEN (NEW.status IS DISTINCT FROM OLD.status)",
    ),
    "units_follow_total": (
        "AFTER UPDATE OF total_quantity",
        "WHEN (NEW.total_quantity IS DISTINCT FROM OLD.total_quantity)",
    ),
}


def upgrade() -> None:
    for name, body in FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION coupons.{name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$"
        )
    for name, (when, condition) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {when} ON coupons.campaigns FOR EACH ROW {condition} "
            f"EXECUTE FUNCTION coupons.{name}()"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON coupons.campaigns")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION coupons.{name}()")
