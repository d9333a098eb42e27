"""Customers and their orders: the tables the later migrations of the tests change.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.Text(), nullable=False),
        schema="shop",
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("legacy_code", sa.Text()),
        schema="shop",
    )


def downgrade() -> None:
    op.drop_table("orders", schema="shop")
    op.drop_table("customers", schema="shop")
