"""svc-merchants's GraphQL schema: the same service calls as the REST controllers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.config import PlatformSettings
from core.pagination import DEFAULT_LIMIT, checked_page
from core.web.graphql import build_schema, graphql_router
from svc_merchants.controllers.dto.merchants import MerchantIn, MerchantPatch, SuspendIn
from svc_merchants.controllers.dto.outlets import OutletIn, OutletPatch
from svc_merchants.controllers.graphql.context import MerchantsContext, get_context
from svc_merchants.controllers.graphql.types import (
    MerchantPage,
    MerchantType,
    OutletPage,
    OutletType,
)
from svc_merchants.services.data_model.merchants import MerchantStatus

MerchantsInfo = Info[MerchantsContext, None]


def _given(input: object) -> dict[str, Any]:
    """The input's fields the caller set; left-out ones stay as they are."""
    return {name: value for name, value in vars(input).items() if value is not strawberry.UNSET}


@strawberry.type
class Query:
    @strawberry.field(description="A merchant: anyone for verified; the owner and admins for any")
    async def merchant(self, info: MerchantsInfo, id: UUID) -> MerchantType:
        ctx = info.context
        return MerchantType.of(await ctx.merchants.get(principal=ctx.principal(), merchant_id=id))

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
        return MerchantPage(
            items=[MerchantType.of(m) for m in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="A merchant's outlets; the merchant must be visible")
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
        return OutletPage(
            items=[OutletType.of(o) for o in page.items], next_cursor=page.next_cursor
        )


@strawberry.input
class ApplyMerchantInput:
    name: str
    country: str
    currency: str
    timezone: str
    category: str | None = None


@strawberry.input(description="Only the fields given change; category may be cleared with null")
class UpdateMerchantInput:
    name: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET


@strawberry.input
class OutletInput:
    name: str
    address: str
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input(description="Only the fields given change; the position is cleared with null")
class UpdateOutletInput:
    name: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    latitude: float | None = strawberry.UNSET
    longitude: float | None = strawberry.UNSET


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply for a merchant; it is pending until verified")
    async def apply_merchant(self, info: MerchantsInfo, input: ApplyMerchantInput) -> MerchantType:
        ctx = info.context
        principal = ctx.signed_in()
        body = MerchantIn.model_validate(vars(input))
        merchant = await ctx.merchants.apply(
            principal=principal,
            name=body.name,
            country=body.country,
            currency=body.currency,
            timezone=body.timezone,
            category=body.category,
        )
        return MerchantType.of(merchant)

    @strawberry.mutation(description="Owner or admin: change profile fields")
    async def update_merchant(
        self, info: MerchantsInfo, id: UUID, input: UpdateMerchantInput
    ) -> MerchantType:
        ctx = info.context
        principal = ctx.signed_in()
        body = MerchantPatch.model_validate(_given(input))
        merchant = await ctx.merchants.update(
            principal=principal, merchant_id=id, changes=body.changes()
        )
        return MerchantType.of(merchant)

    @strawberry.mutation(description="Admin: pending -> verified; the applicant becomes owner")
    async def verify_merchant(self, info: MerchantsInfo, id: UUID) -> MerchantType:
        ctx = info.context
        return MerchantType.of(
            await ctx.merchants.verify(principal=ctx.signed_in(), merchant_id=id)
        )

    @strawberry.mutation(description="Admin: verified -> suspended")
    async def suspend_merchant(self, info: MerchantsInfo, id: UUID, reason: str) -> MerchantType:
        ctx = info.context
        principal = ctx.signed_in()
        body = SuspendIn.model_validate({"reason": reason})
        merchant = await ctx.merchants.suspend(
            principal=principal, merchant_id=id, reason=body.reason
        )
        return MerchantType.of(merchant)

    @strawberry.mutation(description="Admin: suspended -> verified")
    async def reinstate_merchant(self, info: MerchantsInfo, id: UUID) -> MerchantType:
        ctx = info.context
        return MerchantType.of(
            await ctx.merchants.reinstate(principal=ctx.signed_in(), merchant_id=id)
        )

    @strawberry.mutation(description="Owner: add an outlet to a verified merchant")
    async def create_outlet(
        self, info: MerchantsInfo, merchant_id: UUID, input: OutletInput
    ) -> OutletType:
        ctx = info.context
        principal = ctx.signed_in()
        body = OutletIn.model_validate(vars(input))
        outlet = await ctx.outlets.create(
            principal=principal,
            merchant_id=merchant_id,
            name=body.name,
            address=body.address,
            latitude=body.latitude,
            longitude=body.longitude,
        )
        return OutletType.of(outlet)

    @strawberry.mutation(description="Owner: change an outlet")
    async def update_outlet(
        self, info: MerchantsInfo, merchant_id: UUID, outlet_id: UUID, input: UpdateOutletInput
    ) -> OutletType:
        ctx = info.context
        principal = ctx.signed_in()
        body = OutletPatch.model_validate(_given(input))
        outlet = await ctx.outlets.update(
            principal=principal,
            merchant_id=merchant_id,
            outlet_id=outlet_id,
            changes=body.changes(),
        )
        return OutletType.of(outlet)

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
