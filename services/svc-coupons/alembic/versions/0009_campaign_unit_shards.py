"""A campaign's units live in counter shards, so that claims on one campaign do not queue on
one row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As repositories/campaign_units.py's SHARDS, written out: a migration keeps the value it ran
# with, whatever the code says later.
SHARDS = 64


def upgrade() -> None:
    op.create_table(
        "campaign_units",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "capacity IS NULL OR taken <= capacity", name=op.f("ck_campaign_units_within_capacity")
        ),
        sa.CheckConstraint("taken >= 0", name=op.f("ck_campaign_units_taken_not_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["coupons.campaigns.id"],
            name=op.f("fk_campaign_units_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "shard", name=op.f("pk_campaign_units")),
        schema="coupons",
        # Each claim rewrites one shard row: with the rows packed into one page, claims on
        # different shards still queue on that page. Ten percent full spreads a campaign's
        # shards over several pages (README, "Where a claim takes its unit").
        postgresql_with={"fillfactor": "10"},
    )
    # Every campaign's units, as the code will keep them: what was taken so far spread evenly
    # over the shards, what is left likewise (the first shards one more each for the
    # remainders), open while the campaign is active. The campaign row's issued_count stays
    # in place, no longer written, for the code still running during the deploy.
    op.execute(
        f"""
        INSERT INTO coupons.campaign_units (campaign_id, shard, capacity, taken, open)
        SELECT campaign.id, shard.n, CASE WHEN campaign.total_quantity IS NULL THEN NULL ELSE
                   taken.n + (campaign.total_quantity - campaign.issued_count) / {SHARDS}
                   + CASE WHEN shard.n < (campaign.total_quantity - campaign.issued_count)
                     % {SHARDS} THEN 1 ELSE 0 END END,
               taken.n, campaign.status = 'active'
        FROM coupons.campaigns campaign
        CROSS JOIN generate_series(0, {SHARDS - 1}) AS shard (n)
        CROSS JOIN LATERAL (
            SELECT campaign.issued_count / {SHARDS}
                   + CASE WHEN shard.n < campaign.issued_count % {SHARDS} THEN 1 ELSE 0 END
        ) AS taken (n)
        """  # noqa: S608 (a constant of this file)
    )


def downgrade() -> None:
    # The count goes back where the earlier code keeps it.
    op.execute(
        """
        UPDATE coupons.campaigns campaign SET issued_count = units.taken
        FROM (SELECT campaign_id, sum(taken) AS taken FROM coupons.campaign_units
              GROUP BY campaign_id) AS units
        WHERE units.campaign_id = campaign.id
        """
    )
    op.drop_table("campaign_units", schema="coupons")
