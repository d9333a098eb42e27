"""svc-coupons's GraphQL schema: the same service calls as the REST controllers."""

from __future__ import annotations

from typing import Any

import strawberry

from core.config import PlatformSettings
from core.web.graphql import build_schema, graphql_router
from svc_coupons.controllers.graphql.context import get_context
from svc_coupons.controllers.graphql.coupons import CouponsMutation, CouponsQuery
from svc_coupons.controllers.graphql.exchange import ExchangeMutation, ExchangeQuery
from svc_coupons.schemas.graphql_scalars import SCALARS


@strawberry.type
class Query(CouponsQuery, ExchangeQuery):
    pass


@strawberry.type
class Mutation(CouponsMutation, ExchangeMutation):
    pass


def router(settings: PlatformSettings) -> Any:
    schema = build_schema(query=Query, mutation=Mutation, settings=settings, scalars=SCALARS)
    # Their answer holds a claim token, which no table keeps (answer_holds_a_secret).
    return graphql_router(
        schema, get_context, secret_answer_fields=frozenset({"giveCoupon", "rotateClaimToken"})
    )
