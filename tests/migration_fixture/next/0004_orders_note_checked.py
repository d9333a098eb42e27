"""Every order written from now on has a note (the code sets one since 0002's release);
the orders from before get theirs in 0005.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_check_constraint(
        "ck_orders_note_not_null",
        "orders",
        "note IS NOT NULL",
        schema="shop",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("ck_orders_note_not_null", "orders", schema="shop")
