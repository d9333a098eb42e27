"""SQLAlchemy mapped classes of the `coupons` schema."""

from svc_coupons.repositories.schema_model.models import (
    AllocationRow,
    Base,
    CampaignRow,
    CampaignUnitRow,
    CouponRow,
    CustomerClaimRow,
    ListingRow,
    RedemptionRow,
    TransferRow,
    platform_tables,
)

__all__ = [
    "AllocationRow",
    "Base",
    "CampaignRow",
    "CampaignUnitRow",
    "CouponRow",
    "CustomerClaimRow",
    "ListingRow",
    "RedemptionRow",
    "TransferRow",
    "platform_tables",
]
