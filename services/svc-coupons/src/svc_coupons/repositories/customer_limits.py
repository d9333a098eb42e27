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


def receiving(source: str, *, user: str, order_by: str = "") -> str:
    """The body of a CTE that counts one more coupon received by `user` (an SQL expression)
    from the campaign of each row of `source` (a FROM list with a `campaign_id`): a gift or a
    swap accepted, by the same conditional upsert as a claim. The campaign's own
    `per_customer_limit` bounds it; the CTE returns a row per counter it counted, and a
    concurrent accept into the same wallet waits on the counter's row. Counters are taken in
    the order of `order_by`: two statements that each take several must take them in one
    fixed order, or each may hold the row the other waits for."""
    ordered = f"ORDER BY {order_by}" if order_by else ""
    return f"""
    INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed)
    SELECT campaign_id, {user}, 1 FROM {source} {ordered}
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + 1
    WHERE held.claimed < (SELECT limits.per_customer_limit FROM coupons.campaigns limits
                          WHERE limits.id = held.campaign_id)
    RETURNING claimed
    """  # noqa: S608 (only our own names go in; values are bound)


class CustomerLimitRepository(RepositoryBase[CustomerClaimRow]):
    row_type = CustomerClaimRow

    async def take(self, *, campaign_id: UUID, user_id: UUID, limit: int) -> bool:
        connection = await driver_connection(self.session)
        return await connection.fetchval(TAKE_SLOT, campaign_id, user_id, limit) is not None
