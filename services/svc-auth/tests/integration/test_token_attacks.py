"""Every forged or stale token is refused with 401 before any handler runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devstack.testing.tokens import TestTokens
from svc_auth.utils.signing import SigningKey


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def alg_none(tokens: TestTokens) -> str:
    return (
        encode({"alg": "none", "typ": "JWT", "kid": tokens.keys.current.kid}, tokens.claims()) + "."
    )


def hs256_with_public_key(tokens: TestTokens) -> str:
    # CVE-2024-33663: the RS256 public key used as an HMAC secret.
    from cryptography.hazmat.primitives import serialization

    public_pem = tokens.keys.current.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = encode(
        {"alg": "HS256", "typ": "JWT", "kid": tokens.keys.current.kid}, tokens.claims()
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def expired(tokens: TestTokens) -> str:
    claims = tokens.claims()
    claims["iat"] = claims["nbf"] = int(time.time()) - 3600
    claims["exp"] = int(time.time()) - 600
    return tokens.keys.current.sign(claims)


def wrong_audience(tokens: TestTokens) -> str:
    return tokens.keys.current.sign({**tokens.claims(), "aud": "someone-else"})


def wrong_issuer(tokens: TestTokens) -> str:
    return tokens.keys.current.sign({**tokens.claims(), "iss": "https://evil.example"})


def tampered_payload(tokens: TestTokens) -> str:
    header, _, signature = tokens.token().split(".")
    forged = {**tokens.claims(), "roles": ["admin", "customer"], "scope": "admin"}
    return f"{header}.{b64(json.dumps(forged).encode())}.{signature}"


def unknown_kid(tokens: TestTokens) -> str:
    return SigningKey.generate().sign(tokens.claims())


def missing_exp(tokens: TestTokens) -> str:
    claims = tokens.claims()
    del claims["exp"]
    return tokens.keys.current.sign(claims)


def garbage(tokens: TestTokens) -> str:
    return "not.a.jwt"


ATTACKS: dict[str, Callable[[TestTokens], str]] = {
    "alg none": alg_none,
    "HS256 signed with the public key": hs256_with_public_key,
    "expired": expired,
    "wrong aud": wrong_audience,
    "wrong iss": wrong_issuer,
    "tampered payload": tampered_payload,
    "unknown kid": unknown_kid,
    "no exp": missing_exp,
    "garbage": garbage,
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
async def test_forged_tokens_are_401(
    client: httpx.AsyncClient, tokens: TestTokens, attack: Callable[[TestTokens], str]
) -> None:
    response = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {attack(tokens)}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_non_bearer_scheme_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic eDp5"})
    assert response.status_code == 401
