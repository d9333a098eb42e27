"""SQLAlchemy mapped classes of the `coupons` schema."""

from svc_coupons.repositories.schema_model.models import (
    Base,
    CampaignRow,
    CouponRow,
    CustomerClaimRow,
    RedemptionRow,
    platform_tables,
)

__all__ = [
    "Base",
    "CampaignRow",
    "CouponRow",
    "CustomerClaimRow",
    "RedemptionRow",
    "platform_tables",
]
