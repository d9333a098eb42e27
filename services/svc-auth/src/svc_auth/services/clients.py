"""Partner OAuth2 clients: a merchant's own systems, bound to that merchant."""

from __future__ import annotations

import secrets
from uuid import UUID

from core.auth import Principal
from core.errors import Forbidden
from svc_auth.services.data_model.clients import PARTNER_SCOPES, IssuedClient
from svc_auth.services.data_model.users import MerchantRole
from svc_auth.services.errors import InvalidScope
from svc_auth.services.events import auth_event
from svc_auth.services.ports import ClientStore, EventLog, MembershipStore
from svc_auth.utils import opaque


class ClientService:
    def __init__(
        self, *, clients: ClientStore, memberships: MembershipStore, events: EventLog
    ) -> None:
        self._clients = clients
        self._memberships = memberships
        self._events = events

    async def create_partner_client(
        self, *, principal: Principal, name: str, merchant_id: UUID, scopes: list[str]
    ) -> IssuedClient:
        if not principal.is_admin:
            role = (
                await self._memberships.role_of(user_id=principal.user_id, merchant_id=merchant_id)
                if principal.user_id
                else None
            )
            if role is not MerchantRole.OWNER:
                raise Forbidden("Only the merchant's owner or an admin may create its clients")
        requested = frozenset(scopes)
        refused = requested - PARTNER_SCOPES
        if not requested or refused:
            raise InvalidScope(
                f"Partner clients may carry {sorted(PARTNER_SCOPES)}; refused: {sorted(refused)}"
            )
        client_id = f"partner-{secrets.token_hex(8)}"
        secret = opaque.new_secret()
        created_at = await self._clients.create_partner(
            client_id=client_id,
            name=name.strip(),
            secret_hash=opaque.digest(secret),
            scopes=requested,
            merchant_id=merchant_id,
            created_by=principal.user_id,
        )
        await self._events.add(
            auth_event(
                "client.created",
                entity_type="merchant",
                entity_id=merchant_id,
                actor=principal,
                data={"client_id": client_id, "scopes": sorted(requested)},
            )
        )
        return IssuedClient(
            client_id=client_id,
            client_secret=secret,
            name=name.strip(),
            merchant_id=merchant_id,
            scopes=requested,
            created_at=created_at,
        )
