from __future__ import annotations

from datetime import datetime
from uuid import UUID

from core.clock import utcnow
from core.database.repository import RepositoryBase
from svc_auth.repositories.schema_model import OAuthClientRow
from svc_auth.services.data_model.clients import ClientKind, GrantType, OAuthClient


class ClientRepository(RepositoryBase[OAuthClientRow]):
    row_type = OAuthClientRow

    async def get(self, client_id: str) -> OAuthClient | None:
        row = await self._get_row(client_id)
        if row is None:
            return None
        return OAuthClient(
            client_id=row.client_id,
            name=row.name,
            kind=ClientKind(row.kind),
            scopes=frozenset(row.scopes),
            grant_types=frozenset(row.grant_types),
            merchant_id=row.merchant_id,
            secret_hash=row.secret_hash,
        )

    async def create_partner(
        self,
        *,
        client_id: str,
        name: str,
        secret_hash: str,
        scopes: frozenset[str],
        merchant_id: UUID,
        created_by: UUID | None,
    ) -> datetime:
        row = await self._add_row(
            OAuthClientRow(
                client_id=client_id,
                name=name,
                kind=ClientKind.CONFIDENTIAL.value,
                secret_hash=secret_hash,
                scopes=sorted(scopes),
                grant_types=[GrantType.CLIENT_CREDENTIALS.value],
                merchant_id=merchant_id,
                created_by=created_by,
                created_at=utcnow(),
            )
        )
        return row.created_at
