"""svc-merchants: generated from contracts/openapi/merchants.json by make contracts; do not edit."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, cast

from platform_client.transport import Transport, _path


class ApplyForMerchantInput(TypedDict):
    """ApplyForMerchantInput"""

    name: str
    country: str
    currency: str
    timezone: str
    category: NotRequired[str | None]


class CreateOutletInput(TypedDict):
    """CreateOutletInput"""

    name: str
    address: str
    latitude: NotRequired[float | None]
    longitude: NotRequired[float | None]


class Merchant(TypedDict):
    """Merchant"""

    id: str
    name: str
    status: MerchantStatus
    owner_user_id: str
    country: str
    currency: str
    timezone: str
    category: str | None
    created_at: str
    updated_at: str
    verified_at: str | None
    suspended_at: str | None
    suspension_reason: str | None


class MerchantPage(TypedDict):
    """A page of merchants."""

    items: list[Merchant]
    next_cursor: str | None


class Outlet(TypedDict):
    """Outlet"""

    id: str
    merchant_id: str
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    created_at: str
    updated_at: str


class OutletPage(TypedDict):
    """A page of a merchant's outlets."""

    items: list[Outlet]
    next_cursor: str | None


class Problem(TypedDict):
    """An error answer (RFC 9457); `code` is the stable machine code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: NotRequired[list[ProblemFieldError]]


class ProblemFieldError(TypedDict):
    """ProblemFieldError"""

    loc: list[str | int]
    msg: str
    type: str | None


class SuspendMerchantInput(TypedDict):
    """SuspendMerchantInput"""

    reason: str


class UpdateMerchantInput(TypedDict):
    """Only the fields given change; category may be cleared with null, the others not."""

    name: NotRequired[str]
    country: NotRequired[str]
    currency: NotRequired[str]
    timezone: NotRequired[str]
    category: NotRequired[str | None]


class UpdateOutletInput(TypedDict):
    """Only the fields given change; the position is cleared with null for both."""

    name: NotRequired[str]
    address: NotRequired[str]
    latitude: NotRequired[float | None]
    longitude: NotRequired[float | None]


MerchantStatus = Literal["pending", "verified", "suspended"]


class MerchantsApi(Transport):
    """svc-merchants, one method per operation of its OpenAPI document."""

    async def get_merchants_health(self) -> dict[str, str]:
        """Liveness and database reachability"""
        return cast("dict[str, str]", await self._call("GET", "/api/v1/merchants/health"))

    async def list_merchants(
        self,
        *,
        status: MerchantStatus | None = None,
        mine: bool | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> MerchantPage:
        """Verified merchants; admins filter by status, users list their own with mine=true"""
        return cast(
            "MerchantPage",
            await self._call(
                "GET",
                "/api/v1/merchants",
                params={"status": status, "mine": mine, "limit": limit, "cursor": cursor},
            ),
        )

    async def apply_for_merchant(
        self, body: ApplyForMerchantInput, *, idempotency_key: str | None = None
    ) -> Merchant:
        """Apply for a merchant; it is pending until an admin verifies it"""
        return cast(
            "Merchant",
            await self._call(
                "POST", "/api/v1/merchants", json=body, headers={"Idempotency-Key": idempotency_key}
            ),
        )

    async def get_merchant(self, merchant_id: str) -> Merchant:
        """A verified merchant; the owner and admins see any status"""
        return cast("Merchant", await self._call("GET", f"/api/v1/merchants/{_path(merchant_id)}"))

    async def update_merchant(self, merchant_id: str, body: UpdateMerchantInput) -> Merchant:
        """Owner or admin: change profile fields (the applicant, while pending)"""
        return cast(
            "Merchant",
            await self._call("PATCH", f"/api/v1/merchants/{_path(merchant_id)}", json=body),
        )

    async def verify_merchant(
        self, merchant_id: str, *, idempotency_key: str | None = None
    ) -> Merchant:
        """Admin: pending -> verified; the applicant becomes the owner"""
        return cast(
            "Merchant",
            await self._call(
                "POST",
                f"/api/v1/merchants/{_path(merchant_id)}/verify",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def suspend_merchant(
        self, merchant_id: str, body: SuspendMerchantInput, *, idempotency_key: str | None = None
    ) -> Merchant:
        """Admin: verified -> suspended"""
        return cast(
            "Merchant",
            await self._call(
                "POST",
                f"/api/v1/merchants/{_path(merchant_id)}/suspend",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def reinstate_merchant(
        self, merchant_id: str, *, idempotency_key: str | None = None
    ) -> Merchant:
        """Admin: suspended -> verified"""
        return cast(
            "Merchant",
            await self._call(
                "POST",
                f"/api/v1/merchants/{_path(merchant_id)}/reinstate",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_outlets(
        self, merchant_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> OutletPage:
        """A visible merchant's outlets"""
        return cast(
            "OutletPage",
            await self._call(
                "GET",
                f"/api/v1/merchants/{_path(merchant_id)}/outlets",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def create_outlet(
        self, merchant_id: str, body: CreateOutletInput, *, idempotency_key: str | None = None
    ) -> Outlet:
        """Owner: add an outlet to a verified merchant"""
        return cast(
            "Outlet",
            await self._call(
                "POST",
                f"/api/v1/merchants/{_path(merchant_id)}/outlets",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def delete_outlet(self, merchant_id: str, outlet_id: str) -> None:
        """Owner: remove an outlet"""
        await self._call(
            "DELETE", f"/api/v1/merchants/{_path(merchant_id)}/outlets/{_path(outlet_id)}"
        )

    async def update_outlet(
        self, merchant_id: str, outlet_id: str, body: UpdateOutletInput
    ) -> Outlet:
        """Owner: change an outlet"""
        return cast(
            "Outlet",
            await self._call(
                "PATCH",
                f"/api/v1/merchants/{_path(merchant_id)}/outlets/{_path(outlet_id)}",
                json=body,
            ),
        )
