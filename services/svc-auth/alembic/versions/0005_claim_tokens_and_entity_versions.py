"""Idempotency-Key claims carry the token of the request holding them; outbox events the
version of the entity they describe

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Forget every Idempotency-Key kept before this release. Those rows hold what this
    # release no longer keeps: answers in the clear (live codes, client secrets, claim
    # tokens) and unkeyed SHA-256 fingerprints of request bodies (a sign-up's password
    # among them), readable to anyone with the database until the 24-hour purge. Nor could
    # this release use them: it opens only sealed answers and compares HMAC fingerprints,
    # so a retry would be refused (422 `idempotency_key_reused`) rather than replayed.
    # Forgetting them costs a retry that spans the deploy its replay: it runs as a new
    # request, and does its work again if it is still allowed (a second claim up to the
    # campaign's per-customer limit, a second partner client). A gift is unaffected: its
    # transfer keeps its key and answers the retry. A claim still held by a request running
    # across the deploy is gone too, so a duplicate of it is not answered 409 but runs.
    # The table holds a day of keys at most, deleted in the migration's own short
    # transaction.
    op.execute("DELETE FROM auth.idempotency_keys")
    # Nullable, no default: a catalogue change only. Claims made before it have none, and
    # are completed by no one but taken over once stale.
    op.add_column(
        "idempotency_keys", sa.Column("claim_token", sa.Uuid(), nullable=True), schema="auth"
    )
    # The entity's version that the change made, where the entity keeps one.
    op.add_column(
        "outbox", sa.Column("entity_version", sa.BigInteger(), nullable=True), schema="auth"
    )


def downgrade() -> None:
    op.drop_column("outbox", "entity_version", schema="auth")
    op.drop_column("idempotency_keys", "claim_token", schema="auth")
