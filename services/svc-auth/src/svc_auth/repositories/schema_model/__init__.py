"""SQLAlchemy mapped classes of the `auth` schema."""

from svc_auth.repositories.schema_model.models import (
    Base,
    MembershipRow,
    OAuthClientRow,
    RefreshTokenRow,
    UserRoleRow,
    UserRow,
    platform_tables,
)

__all__ = [
    "Base",
    "MembershipRow",
    "OAuthClientRow",
    "RefreshTokenRow",
    "UserRoleRow",
    "UserRow",
    "platform_tables",
]
