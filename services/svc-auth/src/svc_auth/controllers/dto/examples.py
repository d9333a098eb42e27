"""Example requests and answers for the OpenAPI document: a customer signs up and in, a
merchant's owner adds staff and a partner client. The ids recur so the examples fit."""

from __future__ import annotations

from typing import Any

from core.web.openapi import example as example  # what the DTOs call, as ex.example

USER_ID = "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c86"
STAFF_ID = "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a"
MERCHANT_ID = "6f1c2a4e-8d3b-4c1a-9e2f-1b7d5c3a9e01"

REGISTER_IN: dict[str, Any] = {
    "email": "ada@example.com",
    "password": "correct horse battery",
    "display_name": "Ada",
}
MEMBERSHIP: dict[str, Any] = {"merchant_id": MERCHANT_ID, "role": "owner"}
USER: dict[str, Any] = {
    "id": USER_ID,
    "email": "ada@example.com",
    "display_name": "Ada",
    "roles": ["customer"],
    "memberships": [MEMBERSHIP],
    "created_at": "2025-12-01T09:00:00Z",
}
ROLE_IN: dict[str, Any] = {"role": "admin"}
MEMBER_IN: dict[str, Any] = {"email": "barista@example.com", "role": "staff"}
MEMBER: dict[str, Any] = {"user_id": STAFF_ID, "email": "barista@example.com", "role": "staff"}
CLIENT_IN: dict[str, Any] = {
    "name": "Till system",
    "merchant_id": MERCHANT_ID,
    "scopes": ["coupons:read", "coupons:redeem"],
}
CLIENT: dict[str, Any] = {
    "client_id": "partner-3f9a1c7e5b2d4a60",
    "client_secret": "vS8kQ2mZ7xR4tN1pL6wB9cY3hJ5dG0aE",
    "name": "Till system",
    "merchant_id": MERCHANT_ID,
    "scopes": ["coupons:read", "coupons:redeem"],
    "created_at": "2025-12-05T11:00:00Z",
}
TOKEN_REQUEST: dict[str, Any] = {
    "grant_type": "password",
    "username": "ada@example.com",
    "password": "correct horse battery",
    "client_id": "customer-portal",
}
REVOCATION_REQUEST: dict[str, Any] = {
    "token": "r8Hc2Lw9Qz4Tn7Vb1Xm5Kp3Js6Fd0Ga",
    "token_type_hint": "refresh_token",
    "client_id": "customer-portal",
}
OAUTH_ERROR: dict[str, Any] = {
    "error": "invalid_grant",
    "error_description": "The username or password is wrong",
}
TOKEN: dict[str, Any] = {
    "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxvY2FsIn0.eyJzdWIiOiI0YTNiIn0.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "coupons:read coupons:redeem coupons:write merchants:write",
    "refresh_token": "r8Hc2Lw9Qz4Tn7Vb1Xm5Kp3Js6Fd0Ga",
}

ISSUER = "https://api.coupon-exchange.example"
DISCOVERY: dict[str, Any] = {
    "issuer": ISSUER,
    "token_endpoint": f"{ISSUER}/api/v1/auth/token",
    "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
    "revocation_endpoint": f"{ISSUER}/api/v1/auth/revoke",
    "grant_types_supported": ["password", "refresh_token", "client_credentials"],
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    "revocation_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "scopes_supported": [
        "coupons:read",
        "coupons:write",
        "coupons:redeem",
        "merchants:write",
        "admin",
    ],
    "id_token_signing_alg_values_supported": ["RS256"],
    "response_types_supported": ["token"],
    "subject_types_supported": ["public"],
}
