"""The scopes an access token may carry, and what each one allows (API.md).

svc-auth issues them; every service's OpenAPI document lists them in its OAuth2 scheme.
"""

from __future__ import annotations

from types import MappingProxyType

SCOPES = MappingProxyType(
    {
        "coupons:read": "Read campaigns, coupons and the wallet",
        "coupons:write": "Create campaigns, claim, issue, give and swap coupons",
        "coupons:redeem": "Validate and redeem coupons at an outlet",
        "merchants:write": "Apply for and manage merchants and outlets",
        "admin": "Platform administration (admin-portal tokens of admins only)",
    }
)

TOKEN_PATH = "/api/v1/auth/token"
"""svc-auth's token endpoint, where every OAuth2 flow of the platform gets its tokens."""
