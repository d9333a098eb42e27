from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from svc_auth.controllers.dto import examples as ex
from svc_auth.services.data_model.clients import GrantType
from svc_auth.services.data_model.tokens import TokenResponse


# The forms of RFC 6749 and RFC 7009: every field optional here, since a missing or wrong one
# is answered with the RFC's own error (`invalid_request`, `unsupported_grant_type`), not 422.
class TokenRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.TOKEN_REQUEST))

    grant_type: str | None = Field(
        default=None, description=", ".join(f"`{grant.value}`" for grant in GrantType)
    )
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    scope: str | None = Field(default=None, description="Space-separated scopes")
    client_id: str | None = None
    client_secret: str | None = None


class RevocationRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.REVOCATION_REQUEST))

    token: str | None = None
    token_type_hint: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class Token(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.TOKEN))

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None

    @classmethod
    def of(cls, token: TokenResponse) -> Token:
        return cls(
            access_token=token.access_token,
            token_type=token.token_type,
            expires_in=token.expires_in,
            scope=token.scope,
            refresh_token=token.refresh_token,
        )


class OAuthError(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.OAUTH_ERROR))

    error: str
    error_description: str


class OpenIdConfiguration(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.DISCOVERY))

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    response_types_supported: list[str]
    subject_types_supported: list[str]
