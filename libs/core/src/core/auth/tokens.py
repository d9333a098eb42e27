"""Access-token verification. python-jose is used here and nowhere else (swap it in one place)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from jose import jwk, jwt
from jose.exceptions import JOSEError

from core.auth.keys import PublicKeySet
from core.auth.principal import Principal
from core.config import PlatformSettings
from core.errors import Unauthenticated

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "aud", "iss", "sub", "jti")
CLOCK_SKEW_SECONDS = 30
# A caller sends the same token with every request until it expires; checking its RSA
# signature and claims again costs ~0.2 ms each time. What a token says cannot change, so
# a verified one is remembered, bounded in number and for a minute at most, never past its
# expiry.
REMEMBERED_TOKENS = 4096
REMEMBER_SECONDS = 60


class TokenVerifier:
    def __init__(
        self,
        *,
        keys: PublicKeySet,
        issuer: str,
        audience: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        # Parsing a JWK into an RSA key costs more than verifying with it: once per kid.
        self._parsed: dict[str, Any] = {}
        # token -> (usable until, principal); oldest first, as inserted.
        self._verified: dict[str, tuple[float, Principal]] = {}

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> TokenVerifier:
        return cls(
            keys=PublicKeySet(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )

    def _key(self, kid: str) -> Any:
        parsed = self._parsed.get(kid)
        if parsed is None:
            jwk_data = self._keys.get(kid)
            if jwk_data is None:
                return None
            parsed = self._parsed[kid] = jwk.construct(jwk_data, ALGORITHM)
        return parsed

    def verify(self, token: str) -> Principal:
        now = self._clock()
        remembered = self._verified.get(token)
        if remembered is not None:
            usable_until, principal = remembered
            if now < usable_until:
                return principal
            del self._verified[token]
        claims = self._verify(token)
        principal = Principal.from_claims(claims)
        if len(self._verified) >= REMEMBERED_TOKENS:
            del self._verified[next(iter(self._verified))]
        expires = float(claims["exp"]) + CLOCK_SKEW_SECONDS
        self._verified[token] = (min(expires, now + REMEMBER_SECONDS), principal)
        return principal

    def _verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once its signature and claims check out."""
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthenticated("The access token is malformed") from exc
        # The algorithm is ours to choose, never the token's: RS256 and nothing else.
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("The access token is not signed with RS256")
        kid = header.get("kid")
        key = self._key(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("The access token is signed with an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "leeway": CLOCK_SKEW_SECONDS,
                    **{f"require_{claim}": True for claim in REQUIRED_CLAIMS},
                },
            )
        except JOSEError as exc:
            raise Unauthenticated(f"The access token was refused: {exc}") from exc
        return claims
