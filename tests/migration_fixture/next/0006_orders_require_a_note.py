"""The constraints of 0002 and 0004 hold for every row; a note is required.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

squawk_ignore = {
    "ban-drop-constraint": "ck_orders_note_not_null says what NOT NULL now says",
}


def upgrade() -> None:
    # In a transaction of their own, after 0002's and 0004's: VALIDATE scans under SHARE
    # UPDATE EXCLUSIVE, which lets reads and writes go on; SET NOT NULL then finds a valid
    # check that proves it, and scans nothing.
    op.execute("ALTER TABLE shop.orders VALIDATE CONSTRAINT ck_orders_total_not_negative")
    op.execute("ALTER TABLE shop.orders VALIDATE CONSTRAINT fk_orders_customer_id_customers")
    op.execute("ALTER TABLE shop.orders VALIDATE CONSTRAINT ck_orders_note_not_null")
    op.alter_column("orders", "note", existing_type=sa.Text(), nullable=False, schema="shop")
    op.drop_constraint("ck_orders_note_not_null", "orders", schema="shop")


def downgrade() -> None:
    op.alter_column("orders", "note", existing_type=sa.Text(), nullable=True, schema="shop")
