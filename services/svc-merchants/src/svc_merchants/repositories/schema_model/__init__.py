"""SQLAlchemy mapped classes of the `merchants` schema."""

from svc_merchants.repositories.schema_model.models import (
    Base,
    MerchantRow,
    OutletRow,
    platform_tables,
)

__all__ = ["Base", "MerchantRow", "OutletRow", "platform_tables"]
