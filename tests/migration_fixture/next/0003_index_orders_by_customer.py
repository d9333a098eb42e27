"""An index of orders by customer, built while the table takes writes.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # CONCURRENTLY cannot run in a transaction. What runs here is committed before the
    # migration is recorded, so it must be safe to run again: a build that failed leaves an
    # invalid index of that name behind, which the DROP removes.
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_customer_id",
            table_name="orders",
            schema="shop",
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.create_index(
            "ix_orders_customer_id",
            "orders",
            ["customer_id"],
            schema="shop",
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_customer_id",
            table_name="orders",
            schema="shop",
            postgresql_concurrently=True,
            if_exists=True,
        )
