"""svc-merchants' GraphQL schema: the REST operations' service calls, under their names
(mutations as the REST operation, reads as its noun), with types derived from the DTOs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.config import PlatformSettings
from core.pagination import DEFAULT_LIMIT, checked_page
from core.web.graphql import build_schema, given_fields, graphql_router
from svc_merchants.controllers.dto import merchants, outlets
from svc_merchants.controllers.graphql.context import MerchantsContext, get_context
from svc_merchants.controllers.graphql.types import (
    ApplyForMerchantInput,
    CreateOutletInput,
    Merchant,
    MerchantPage,
    Outlet,
    OutletPage,
    SuspendMerchantInput,
    UpdateMerchantInput,
    UpdateOutletInput,
)
from svc_merchants.services.data_model.merchants import MerchantStatus

MerchantsInfo = Info[MerchantsContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="A verified merchant; the owner and admins see any status")
    async def merchant(self, info: MerchantsInfo, id: UUID) -> Merchant:
        ctx = info.context
        found = await ctx.merchants.get(principal=ctx.principal(), merchant_id=id)
        return Merchant.from_pydantic(merchants.Merchant.of(found))

    @strawberry.field(
        description="Verified merchants; admins filter by status, users list their own with mine"
    )
    async def merchants(
        self,
        info: MerchantsInfo,
        status: MerchantStatus | None = None,
        mine: bool = False,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> MerchantPage:
        ctx = info.context
        page = await ctx.merchants.list_merchants(
            principal=ctx.principal(), status=status, mine=mine, page=checked_page(limit, cursor)
        )
        return MerchantPage.from_pydantic(
            merchants.MerchantPage(
                items=[merchants.Merchant.of(m) for m in page.items], next_cursor=page.next_cursor
            )
        )

    @strawberry.field(description="A visible merchant's outlets")
    async def outlets(
        self,
        info: MerchantsInfo,
        merchant_id: UUID,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> OutletPage:
        ctx = info.context
        page = await ctx.outlets.list_outlets(
            principal=ctx.principal(), merchant_id=merchant_id, page=checked_page(limit, cursor)
        )
        return OutletPage.from_pydantic(
            outlets.OutletPage(
                items=[outlets.Outlet.of(o) for o in page.items], next_cursor=page.next_cursor
            )
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Apply for a merchant; it is pending until an admin verifies it"
    )
    async def apply_for_merchant(
        self, info: MerchantsInfo, input: ApplyForMerchantInput
    ) -> Merchant:
        ctx = info.context
        principal = ctx.signed_in()
        body: merchants.ApplyForMerchantInput = input.to_pydantic()
        merchant = await ctx.merchants.apply(
            principal=principal,
            name=body.name,
            country=body.country,
            currency=body.currency,
            timezone=body.timezone,
            category=body.category,
        )
        return Merchant.from_pydantic(merchants.Merchant.of(merchant))

    @strawberry.mutation(
        description="Owner or admin: change profile fields (the applicant, while pending)"
    )
    async def update_merchant(
        self, info: MerchantsInfo, id: UUID, input: UpdateMerchantInput
    ) -> Merchant:
        ctx = info.context
        principal = ctx.signed_in()
        body = merchants.UpdateMerchantInput.model_validate(given_fields(input))
        merchant = await ctx.merchants.update(
            principal=principal, merchant_id=id, changes=body.changes()
        )
        return Merchant.from_pydantic(merchants.Merchant.of(merchant))

    @strawberry.mutation(description="Admin: pending -> verified; the applicant becomes the owner")
    async def verify_merchant(self, info: MerchantsInfo, id: UUID) -> Merchant:
        ctx = info.context
        merchant = await ctx.merchants.verify(principal=ctx.signed_in(), merchant_id=id)
        return Merchant.from_pydantic(merchants.Merchant.of(merchant))

    @strawberry.mutation(description="Admin: verified -> suspended")
    async def suspend_merchant(
        self, info: MerchantsInfo, id: UUID, input: SuspendMerchantInput
    ) -> Merchant:
        ctx = info.context
        principal = ctx.signed_in()
        body: merchants.SuspendMerchantInput = input.to_pydantic()
        merchant = await ctx.merchants.suspend(
            principal=principal, merchant_id=id, reason=body.reason
        )
        return Merchant.from_pydantic(merchants.Merchant.of(merchant))

    @strawberry.mutation(description="Admin: suspended -> verified")
    async def reinstate_merchant(self, info: MerchantsInfo, id: UUID) -> Merchant:
        ctx = info.context
        merchant = await ctx.merchants.reinstate(principal=ctx.signed_in(), merchant_id=id)
        return Merchant.from_pydantic(merchants.Merchant.of(merchant))

    @strawberry.mutation(description="Owner: add an outlet to a verified merchant")
    async def create_outlet(
        self, info: MerchantsInfo, merchant_id: UUID, input: CreateOutletInput
    ) -> Outlet:
        ctx = info.context
        principal = ctx.signed_in()
        body: outlets.CreateOutletInput = input.to_pydantic()
        outlet = await ctx.outlets.create(
            principal=principal,
            merchant_id=merchant_id,
            name=body.name,
            address=body.address,
            latitude=body.latitude,
            longitude=body.longitude,
        )
        return Outlet.from_pydantic(outlets.Outlet.of(outlet))

    @strawberry.mutation(description="Owner: change an outlet")
    async def update_outlet(
        self, info: MerchantsInfo, merchant_id: UUID, outlet_id: UUID, input: UpdateOutletInput
    ) -> Outlet:
        ctx = info.context
        principal = ctx.signed_in()
        body = outlets.UpdateOutletInput.model_validate(given_fields(input))
        outlet = await ctx.outlets.update(
            principal=principal,
            merchant_id=merchant_id,
            outlet_id=outlet_id,
            changes=body.changes(),
        )
        return Outlet.from_pydantic(outlets.Outlet.of(outlet))

    @strawberry.mutation(description="Owner: remove an outlet")
    async def delete_outlet(self, info: MerchantsInfo, merchant_id: UUID, outlet_id: UUID) -> bool:
        ctx = info.context
        await ctx.outlets.delete(
            principal=ctx.signed_in(), merchant_id=merchant_id, outlet_id=outlet_id
        )
        return True


def router(settings: PlatformSettings) -> Any:
    schema = build_schema(query=Query, mutation=Mutation, settings=settings)
    return graphql_router(schema, get_context)
