from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import select, update

from core.clock import utcnow
from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from svc_auth.repositories.schema_model import RefreshTokenRow, platform_tables
from svc_auth.services.data_model.tokens import RefreshTokenRecord

# A family's revocation and its event in one statement: the event is written exactly when
# a live token of the family was revoked.
REVOKE_FAMILY = f"""
WITH revoked AS (
    UPDATE auth.refresh_tokens SET revoked_at = $2
    WHERE family_id = $1 AND revoked_at IS NULL
    RETURNING id
), {announce(platform_tables.outbox, when="revoked", after=2)}
SELECT {ANNOUNCED_OUTCOME}
"""  # noqa: S608 (only our own table names go in; values are bound)


class RefreshTokenRepository(RepositoryBase[RefreshTokenRow]):
    row_type = RefreshTokenRow

    async def add(
        self,
        *,
        token_hash: str,
        family_id: UUID,
        user_id: UUID,
        client_id: str,
        scope: str,
        expires_at: datetime,
    ) -> None:
        await self._add_row(
            RefreshTokenRow(
                id=uuid4(),
                token_hash=token_hash,
                family_id=family_id,
                user_id=user_id,
                client_id=client_id,
                scope=scope,
                issued_at=utcnow(),
                expires_at=expires_at,
            )
        )

    async def find(self, token_hash: str) -> RefreshTokenRecord | None:
        row = (
            await self.session.execute(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return RefreshTokenRecord(
            id=row.id,
            family_id=row.family_id,
            user_id=row.user_id,
            client_id=row.client_id,
            scope=row.scope,
            expires_at=row.expires_at,
            rotated_at=row.rotated_at,
            revoked_at=row.revoked_at,
        )

    async def mark_rotated(self, token_id: UUID) -> bool:
        rotated = await self.session.execute(
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.id == token_id,
                RefreshTokenRow.rotated_at.is_(None),
                RefreshTokenRow.revoked_at.is_(None),
            )
            .values(rotated_at=utcnow())
            .returning(RefreshTokenRow.id)
        )
        return rotated.first() is not None

    async def revoke_family(self, family_id: UUID, *, event: DomainEvent) -> bool:
        row = await OutboxWriter(platform_tables.outbox, self.session).fetchrow(
            REVOKE_FAMILY, family_id, event.occurred_at, events=(event,)
        )
        return row is not None and bool(row["announced"])
