from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from svc_auth.controllers.dto import examples as ex
from svc_auth.services.data_model.clients import IssuedClient


class CreatePartnerClientInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.CLIENT_IN)
    )

    name: str = Field(min_length=1, max_length=100)
    merchant_id: UUID
    scopes: list[str] = Field(min_length=1, max_length=10)


class PartnerClient(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.CLIENT))

    client_id: str = Field(description="The client's id at the token endpoint (RFC 6749)")
    client_secret: str = Field(description="Shown only in this response; store it now")
    name: str
    merchant_id: UUID
    scopes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, client: IssuedClient) -> PartnerClient:
        return cls(
            client_id=client.client_id,
            client_secret=client.client_secret,
            name=client.name,
            merchant_id=client.merchant_id,
            scopes=sorted(client.scopes),
            created_at=client.created_at,
        )
