"""Orders get a note, a total that cannot go negative and a foreign key to their customer,
without a scan under a lock that blocks writes: what already exists is checked in 0004.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # Nullable, no default: a change of the catalog only.
    op.add_column("orders", sa.Column("note", sa.Text()), schema="shop")
    # NOT VALID: new and changed rows are checked at once, the rows already there later.
    op.create_check_constraint(
        "ck_orders_total_not_negative",
        "orders",
        "total >= 0",
        schema="shop",
        postgresql_not_valid=True,
    )
    op.create_foreign_key(
        "fk_orders_customer_id_customers",
        "orders",
        "customers",
        ["customer_id"],
        ["id"],
        source_schema="shop",
        referent_schema="shop",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    op.drop_constraint("fk_orders_customer_id_customers", "orders", schema="shop")
    op.drop_constraint("ck_orders_total_not_negative", "orders", schema="shop")
    op.drop_column("orders", "note", schema="shop")
