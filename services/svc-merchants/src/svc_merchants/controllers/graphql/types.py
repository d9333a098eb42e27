"""svc-merchants' GraphQL types, each derived from its REST model (controllers.dto): a field,
an enum or a nullability cannot differ between the two. The GraphQL names are the models'.

The PATCH inputs are the exception, written out: GraphQL makes an input field optional only
by making it nullable, and a field left out must be told from one sent as null, which the
derived types cannot (they give every left-out field the model's default). Their fields are
nullable and UNSET when left out; what was given (core.web.graphql.given_fields) goes through
the REST model, which refuses a null where REST does (invalid_input).
tests/contracts/test_object_parity.py holds them to their models field by field.
"""

from __future__ import annotations

import strawberry
from strawberry.experimental import pydantic as from_model

from svc_merchants.controllers.dto import merchants, outlets
from svc_merchants.services.data_model.merchants import MerchantStatus

strawberry.enum(MerchantStatus, name="MerchantStatus")


@from_model.type(model=merchants.Merchant, all_fields=True, name="Merchant")
class Merchant:
    pass


@from_model.type(model=merchants.MerchantPage, all_fields=True, name="MerchantPage")
class MerchantPage:
    pass


@from_model.type(model=outlets.Outlet, all_fields=True, name="Outlet")
class Outlet:
    pass


@from_model.type(model=outlets.OutletPage, all_fields=True, name="OutletPage")
class OutletPage:
    pass


@from_model.input(
    model=merchants.ApplyForMerchantInput, all_fields=True, name="ApplyForMerchantInput"
)
class ApplyForMerchantInput:
    pass


@from_model.input(
    model=merchants.SuspendMerchantInput, all_fields=True, name="SuspendMerchantInput"
)
class SuspendMerchantInput:
    pass


@from_model.input(model=outlets.CreateOutletInput, all_fields=True, name="CreateOutletInput")
class CreateOutletInput:
    pass


@strawberry.input(name="UpdateMerchantInput", description=merchants.UpdateMerchantInput.__doc__)
class UpdateMerchantInput:
    name: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET


@strawberry.input(name="UpdateOutletInput", description=outlets.UpdateOutletInput.__doc__)
class UpdateOutletInput:
    name: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    latitude: float | None = strawberry.UNSET
    longitude: float | None = strawberry.UNSET
