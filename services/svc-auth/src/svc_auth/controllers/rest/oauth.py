"""The OAuth2 endpoints: token (RFC 6749), revocation (RFC 7009), JWKS and discovery."""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from core.auth.scopes import TOKEN_PATH
from core.web.addresses import client_address
from core.web.routes import OAuthRoute, get_unit_of_work
from svc_auth.controllers.dependencies import ComponentsDep, TokensDep
from svc_auth.controllers.dto.oauth import OAuthError as OAuthErrorAnswer
from svc_auth.controllers.dto.oauth import (
    OpenIdConfiguration,
    RevocationRequest,
    Token,
    TokenRequest,
)
from svc_auth.services.data_model.clients import GrantType, Scope
from svc_auth.services.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    LoginThrottled,
    OAuthError,
    OAuthInvalidScope,
    SignInUnavailable,
    UnauthorizedClient,
    UnsupportedGrantType,
)

router = APIRouter(route_class=OAuthRoute, tags=["oauth2"])
well_known = APIRouter(tags=["oauth2"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REVOKE_PATH = "/api/v1/auth/revoke"
JWKS_PATH = "/.well-known/jwks.json"


def oauth_errors(*errors: type[OAuthError]) -> dict[int | str, dict[str, Any]]:
    """For `responses=`: the RFC 6749 error answers an endpoint gives, one example each."""
    by_status: dict[int, list[type[OAuthError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    return {
        status: {
            "model": OAuthErrorAnswer,
            "description": f"{HTTPStatus(status).phrase} (RFC 6749 section 5.2): "
            + ", ".join(f"`{e.error}`" for e in group),
            "content": {
                "application/json": {
                    "examples": {
                        e.error: {"value": {"error": e.error, "error_description": e.__doc__}}
                        for e in group
                    }
                }
            },
        }
        for status, group in sorted(by_status.items())
    }


def _client_credentials(
    request: Request, client_id: str | None, client_secret: str | None
) -> tuple[str | None, str | None, bool]:
    """Client id and secret from HTTP Basic (RFC 6749 2.3.1) or the form, never both."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return client_id, client_secret, False
    if client_secret is not None:
        raise InvalidRequest("Authenticate the client one way only")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("Malformed HTTP Basic credentials") from None
    basic_id, separator, basic_secret = decoded.partition(":")
    if not separator:
        raise InvalidRequest("Malformed HTTP Basic credentials")
    return unquote(basic_id), unquote(basic_secret), True


def _oauth_error(request: Request, error: OAuthError, used_basic: bool) -> JSONResponse:
    if not error.keep_changes:
        get_unit_of_work(request).rollback_only = True
    headers = dict(NO_STORE)
    if error.status == 401 and used_basic:
        headers["WWW-Authenticate"] = 'Basic realm="coupon-platform"'
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


@router.post(
    TOKEN_PATH,
    response_model=Token,
    responses=oauth_errors(
        InvalidRequest,
        InvalidGrant,
        UnauthorizedClient,
        UnsupportedGrantType,
        OAuthInvalidScope,
        InvalidClient,
        LoginThrottled,
        SignInUnavailable,
    ),
    summary="Token endpoint: password, refresh_token and client_credentials grants",
    description=(
        "A form (`application/x-www-form-urlencoded`). Portals: `grant_type=password` with "
        "`username`, `password` and their public `client_id`; `grant_type=refresh_token` to "
        "renew. Partner systems: `grant_type=client_credentials` with `client_id` and "
        "`client_secret` (or HTTP Basic)."
    ),
    operation_id="issueToken",
)
async def token(
    request: Request, tokens: TokensDep, form: Annotated[TokenRequest, Form()]
) -> JSONResponse:
    grant_type, username, password = form.grant_type, form.username, form.password
    refresh_token, scope = form.refresh_token, form.scope
    client_id, client_secret = form.client_id, form.client_secret
    used_basic = False
    address = client_address(request)
    try:
        client_id, client_secret, used_basic = _client_credentials(
            request, client_id, client_secret
        )
        if grant_type == GrantType.PASSWORD:
            if not username or password is None:
                raise InvalidRequest("The password grant needs username and password")
            issued = await tokens.password_grant(
                client_id=client_id,
                client_secret=client_secret,
                username=username,
                password=password,
                scope=scope,
                address=address,
            )
        elif grant_type == GrantType.REFRESH_TOKEN:
            if not refresh_token:
                raise InvalidRequest("The refresh_token grant needs refresh_token")
            issued = await tokens.refresh_grant(
                client_id=client_id,
                client_secret=client_secret,
                refresh_token=refresh_token,
                scope=scope,
                address=address,
            )
        elif grant_type == GrantType.CLIENT_CREDENTIALS:
            issued = await tokens.client_credentials_grant(
                client_id=client_id, client_secret=client_secret, scope=scope, address=address
            )
        elif grant_type is None:
            raise InvalidRequest("grant_type is required")
        else:
            raise UnsupportedGrantType(f"Unsupported grant_type {grant_type!r}")
    except OAuthError as error:
        return _oauth_error(request, error, used_basic)
    return JSONResponse(Token.of(issued).model_dump(exclude_none=True), headers=NO_STORE)


@router.post(
    REVOKE_PATH,
    responses=oauth_errors(InvalidRequest, InvalidClient),
    summary="Revocation endpoint (RFC 7009): 200 whatever the token was",
    operation_id="revokeToken",
)
async def revoke(
    request: Request, tokens: TokensDep, form: Annotated[RevocationRequest, Form()]
) -> JSONResponse:
    token, client_id, client_secret = form.token, form.client_id, form.client_secret
    used_basic = False
    try:
        client_id, client_secret, used_basic = _client_credentials(
            request, client_id, client_secret
        )
        if not token:
            raise InvalidRequest("token is required")
        # The hint only speeds up a lookup; we look in the one place tokens are stored.
        await tokens.revoke(token=token, client_id=client_id, client_secret=client_secret)
    except OAuthError as error:
        return _oauth_error(request, error, used_basic)
    return JSONResponse({}, headers=NO_STORE)


@well_known.get(
    JWKS_PATH, summary="The public keys that verify access tokens", operation_id="getJwks"
)
async def jwks(parts: ComponentsDep) -> JSONResponse:
    return JSONResponse(parts.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@well_known.get(
    "/.well-known/openid-configuration",
    response_model=OpenIdConfiguration,
    summary="Authorization server metadata",
    operation_id="getOpenIdConfiguration",
)
async def discovery(parts: ComponentsDep) -> OpenIdConfiguration:
    issuer = parts.policy.issuer.rstrip("/")
    return OpenIdConfiguration(
        issuer=parts.policy.issuer,
        token_endpoint=issuer + TOKEN_PATH,
        jwks_uri=issuer + JWKS_PATH,
        revocation_endpoint=issuer + REVOKE_PATH,
        grant_types_supported=[grant.value for grant in GrantType],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        scopes_supported=[scope.value for scope in Scope],
        id_token_signing_alg_values_supported=["RS256"],
        response_types_supported=["token"],
        subject_types_supported=["public"],
    )
