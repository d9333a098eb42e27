from __future__ import annotations

from uuid import UUID

from sqlalchemy.dialects.postgresql import insert

from core.database.repository import RepositoryBase
from svc_coupons.repositories.schema_model import CustomerClaimRow


class CustomerLimitRepository(RepositoryBase[CustomerClaimRow]):
    row_type = CustomerClaimRow

    async def take(self, *, campaign_id: UUID, user_id: UUID, limit: int) -> bool:
        # One statement decides: the first claim inserts 1, later ones add 1 only while
        # under the limit. A concurrent claim of the same customer waits on the row.
        statement = insert(CustomerClaimRow).values(
            campaign_id=campaign_id, user_id=user_id, claimed=1
        )
        counted = await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[CustomerClaimRow.campaign_id, CustomerClaimRow.user_id],
                set_={"claimed": CustomerClaimRow.claimed + 1},
                where=CustomerClaimRow.claimed < limit,
            ).returning(CustomerClaimRow.claimed)
        )
        return counted.first() is not None
