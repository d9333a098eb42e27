"""Access tokens for tests and benchmarks, signed like svc-auth signs them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from svc_auth.utils.signing import KeyRing, SigningKey

ALL_USER_SCOPES = "coupons:read coupons:write coupons:redeem merchants:write"


@dataclass(frozen=True)
class TestTokens:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    keys: KeyRing
    issuer: str = "http://testserver"
    audience: str = "coupon-platform"

    @classmethod
    def generate(cls) -> TestTokens:
        return cls(KeyRing(SigningKey.generate()))

    def claims(
        self,
        *,
        subject: UUID | str | None = None,
        scope: str = ALL_USER_SCOPES,
        roles: tuple[str, ...] = ("customer",),
        memberships: tuple[tuple[UUID, str], ...] = (),
        client_id: str = "customer-portal",
        ttl: int = 900,
    ) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(subject or uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid4().hex,
            "client_id": client_id,
            "scope": scope,
            "roles": list(roles),
            "memberships": [{"merchant_id": str(m), "role": r} for m, r in memberships],
        }

    def token(self, **kwargs: Any) -> str:
        return self.keys.current.sign(self.claims(**kwargs))

    def admin(self, subject: UUID | str | None = None) -> str:
        return self.token(
            subject=subject,
            scope=ALL_USER_SCOPES + " admin",
            roles=("admin", "customer"),
            client_id="admin-portal",
        )

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}
