"""Stock clients work: Authlib fetches a token via discovery, PyJWT verifies it via JWKS."""

from __future__ import annotations

import httpx
import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import FastAPI

from devstack.testing.api import AuthApi


async def test_authlib_token_verified_by_pyjwt_against_jwks(
    accounts: AuthApi, auth_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await accounts.register("stock@example.com")
    discovery = (await client.get("/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == "http://testserver"
    assert "password" in discovery["grant_types_supported"]

    async with AsyncOAuth2Client(
        client_id="customer-portal",
        token_endpoint_auth_method="none",
        transport=httpx.ASGITransport(app=auth_app),
        base_url="http://testserver",
    ) as oauth:
        token = await oauth.fetch_token(
            discovery["token_endpoint"],
            username="stock@example.com",
            password="correct horse battery",
        )
        assert token["token_type"] == "Bearer"

        jwks = (await client.get(discovery["jwks_uri"])).json()
        header = jwt.get_unverified_header(token["access_token"])
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(
            token["access_token"],
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience="coupon-platform",
            issuer=discovery["issuer"],
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
        assert claims["client_id"] == "customer-portal"
        assert claims["roles"] == ["customer"]
        assert claims["memberships"] == []

        refreshed = await oauth.refresh_token(discovery["token_endpoint"])
        assert refreshed["access_token"] != token["access_token"]
