from __future__ import annotations

from uuid import UUID

from core.database.driver import driver_connection
from core.database.repository import RepositoryBase
from svc_coupons.repositories.schema_model import CustomerClaimRow

# One statement decides: the first claim inserts 1, later ones add 1 only while under the
# limit. A concurrent claim of the same customer waits on the row.
TAKE_SLOT = """
INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed) VALUES ($1, $2, 1)
ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + 1
WHERE held.claimed < $3
RETURNING claimed
"""


class CustomerLimitRepository(RepositoryBase[CustomerClaimRow]):
    row_type = CustomerClaimRow

    async def take(self, *, campaign_id: UUID, user_id: UUID, limit: int) -> bool:
        connection = await driver_connection(self.session)
        return await connection.fetchval(TAKE_SLOT, campaign_id, user_id, limit) is not None
