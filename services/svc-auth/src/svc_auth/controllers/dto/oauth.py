from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from svc_auth.controllers.dto import examples as ex
from svc_auth.services.data_model.tokens import TokenResponse


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.TOKEN))

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None

    @classmethod
    def of(cls, token: TokenResponse) -> TokenOut:
        return cls(
            access_token=token.access_token,
            token_type=token.token_type,
            expires_in=token.expires_in,
            scope=token.scope,
            refresh_token=token.refresh_token,
        )


class OAuthErrorOut(BaseModel):
    error: str
    error_description: str


class DiscoveryOut(BaseModel):
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
