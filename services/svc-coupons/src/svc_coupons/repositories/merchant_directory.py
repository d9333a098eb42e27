"""svc-merchants' public API, read over HTTP through a short-lived cache.

svc-coupons never imports svc-merchants: it asks it, as any client would, forwarding the
caller's bearer token so that a merchant's owner sees their own pending or suspended
merchant. Answers are kept per request in memory and in DynamoDB for a few seconds: a
verified merchant (anything else is asked again, so verification counts at once) and its
outlets (read again when an outlet missing from them is asked for).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID

from svc_coupons.repositories.cache import DynamoCache
from svc_coupons.services.data_model.merchants import Merchant, MerchantStatus
from svc_coupons.services.errors import MerchantsUnavailable

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

OUTLETS_PAGE_SIZE = 100


class MerchantsHttp:
    """The process-wide HTTP client to svc-merchants, created on first use."""

    def __init__(
        self, *, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._base_url = base_url
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # only the requests that look a merchant up pay for the import

            self._client = httpx.AsyncClient(
                base_url=self._base_url, timeout=self._timeout, transport=self._transport
            )
        return self._client

    async def get(self, path: str, *, authorization: str | None, **params: Any) -> Any:
        """The JSON body of a 200; None for a 404; MerchantsUnavailable otherwise."""
        import httpx

        headers = {"Authorization": authorization} if authorization else {}
        try:
            response = await self.client.get(path, headers=headers, params=params)
        except httpx.HTTPError as exc:
            logger.warning("svc-merchants unreachable: %r", exc)
            raise MerchantsUnavailable() from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            logger.warning("svc-merchants answered %s on %s", response.status_code, path)
            raise MerchantsUnavailable()
        return response.json()


_UNSEEN = object()


def merchant_key(merchant_id: UUID) -> str:
    return f"merchant#{merchant_id}"


def outlets_key(merchant_id: UUID) -> str:
    return f"outlets#{merchant_id}"


class HttpMerchantDirectory:
    """One per request: it carries the caller's credentials and remembers its answers."""

    def __init__(
        self, *, http: MerchantsHttp, cache: DynamoCache, authorization: str | None
    ) -> None:
        self._http = http
        self._cache = cache
        self._authorization = authorization
        self._seen: dict[str, Any] = {}

    async def _remembered(self, key: str) -> Any:
        """What this request, or else the shared cache, knows; _UNSEEN when neither does."""
        if key in self._seen:
            return self._seen[key]
        cached = await self._cache.get(key)
        return _UNSEEN if cached is None else cached

    async def _fetch(
        self, key: str, path: str, *, pages: bool, cacheable: Callable[[Any], bool]
    ) -> Any:
        value = await (self._pages(path) if pages else self._one(path))
        if value is not None and cacheable(value):
            await self._cache.put(key, value)
        self._seen[key] = value
        return value

    async def _one(self, path: str) -> Any:
        return await self._http.get(path, authorization=self._authorization)

    async def _pages(self, path: str) -> list[Any] | None:
        items: list[Any] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": OUTLETS_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            page = await self._http.get(path, authorization=self._authorization, **params)
            if page is None:
                return None
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def merchant(self, merchant_id: UUID) -> Merchant | None:
        key = merchant_key(merchant_id)
        body = await self._remembered(key)
        if body is _UNSEEN:
            # Only a verified merchant is cached: verification takes effect at once, and a
            # suspension as soon as its event arrives (svc_coupons.consumers).
            body = await self._fetch(
                key,
                f"/api/v1/merchants/{merchant_id}",
                pages=False,
                cacheable=lambda found: found.get("status") == MerchantStatus.VERIFIED,
            )
        if body is None:
            return None
        owner = body.get("owner_user_id")
        return Merchant(
            id=UUID(str(body["id"])),
            status=str(body["status"]),
            owner_user_id=UUID(str(owner)) if owner else None,
        )

    async def outlet_ids(
        self, merchant_id: UUID, *, including: Collection[UUID] = ()
    ) -> frozenset[UUID]:
        key = outlets_key(merchant_id)
        outlets = await self._remembered(key)
        fresh = key in self._seen
        known = frozenset() if outlets is _UNSEEN else _ids(outlets)
        if outlets is _UNSEEN or (not fresh and not set(including) <= known):
            # Not known, or an outlet younger than the cached list is asked for.
            outlets = await self._fetch(
                key,
                f"/api/v1/merchants/{merchant_id}/outlets",
                pages=True,
                cacheable=lambda _: True,
            )
            known = _ids(outlets)
        return known


def _ids(outlets: list[Any] | None) -> frozenset[UUID]:
    return frozenset(UUID(str(outlet["id"])) for outlet in outlets or [])
