"""The orders from before 0002 get an empty note, a few rows at a time.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from core.database.migrations import backfill_in_batches

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        backfill_in_batches(
            "UPDATE shop.orders SET note = '' WHERE id IN "
            "(SELECT id FROM shop.orders WHERE note IS NULL LIMIT 2)"
        )


def downgrade() -> None:
    pass
