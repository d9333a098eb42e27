from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, Double, ForeignKey, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.database import service_metadata
from core.database.platform_tables import PlatformTables

SCHEMA = "merchants"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


platform_tables = PlatformTables.define(Base.metadata)


class MerchantRow(Base):
    __tablename__ = "merchants"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    owner_user_id: Mapped[UUID]
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(50))
    suspension_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'verified', 'suspended')", name="status"),
        # The public list (by status) and "my applications" (by applicant), both keyset-paged.
        Index("ix_merchants_status_created_at_id", "status", "created_at", "id"),
        Index("ix_merchants_owner_user_id_created_at_id", "owner_user_id", "created_at", "id"),
    )


class OutletRow(Base):
    __tablename__ = "outlets"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    merchant_id: Mapped[UUID] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)"
            " AND (latitude IS NULL OR latitude BETWEEN -90 AND 90)"
            " AND (longitude IS NULL OR longitude BETWEEN -180 AND 180)",
            name="position",
        ),
        Index("ix_outlets_merchant_id_created_at_id", "merchant_id", "created_at", "id"),
    )
