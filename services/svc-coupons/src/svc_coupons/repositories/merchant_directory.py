"""svc-merchants' public API, read over HTTP through a short-lived cache.

svc-coupons never imports svc-merchants: it asks it, as any client would, forwarding the
caller's bearer token so that a merchant's owner sees their own pending or suspended
merchant. Answers are kept per request in memory and in DynamoDB for a few seconds: a
verified merchant (anything else is asked again, so verification counts at once) and its
outlets (read again when an outlet missing from them is asked for).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core import correlation
from core.tracing import subsegment
from svc_coupons.repositories.cache import DynamoCache
from svc_coupons.services.data_model.merchants import Merchant
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
        # svc-merchants logs this call under the request that caused it (core.correlation).
        correlation_id = correlation.current()
        if correlation_id:
            headers[correlation.HEADER] = correlation_id
        try:
            # The path holds a merchant's id, never a coupon's code.
            with subsegment("svc-merchants") as span:
                span["http"] = {"request": {"method": "GET", "url": path}}
                response = await self.client.get(path, headers=headers, params=params)
                span["http"]["response"] = {"status": response.status_code}
        except httpx.HTTPError as exc:
            logger.warning("svc-merchants unreachable: %r", exc)
            raise MerchantsUnavailable() from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            logger.warning("svc-merchants answered %s on %s", response.status_code, path)
            raise MerchantsUnavailable()
        try:
            return response.json()
        except ValueError as exc:  # not JSON: an HTML error page from a proxy, say
            logger.warning("svc-merchants answered no JSON on %s", path)
            raise MerchantsUnavailable() from exc


_UNSEEN = object()
# What parsing an answer of an unexpected shape raises: a JSON list where an object was
# due, a missing key, a value of the wrong type, an id that is no UUID.
_MALFORMED = (ValueError, KeyError, TypeError, AttributeError)


def merchant_key(merchant_id: UUID) -> str:
    return f"merchant#{merchant_id}"


def outlets_key(merchant_id: UUID) -> str:
    return f"outlets#{merchant_id}"


def _malformed(what: str, exc: BaseException | None = None) -> MerchantsUnavailable:
    logger.warning("svc-merchants answered a malformed %s: %r", what, exc)
    return MerchantsUnavailable()


def merchant_from(body: Any) -> Merchant:
    """svc-merchants' merchant document, as far as svc-coupons reads it; MerchantsUnavailable
    when it is not one (an unexpected answer is an outage, not a fact about the merchant)."""
    try:
        status, owner = body["status"], body.get("owner_user_id")
        if not isinstance(status, str) or not isinstance(owner, str | None):
            raise TypeError("status and owner_user_id are strings")
        return Merchant(
            id=UUID(str(body["id"])),
            status=status,
            owner_user_id=UUID(owner) if owner else None,
        )
    except _MALFORMED as exc:
        raise _malformed("merchant", exc) from exc


def outlet_ids_from(outlets: Any) -> frozenset[UUID]:
    """The ids of svc-merchants' outlet documents (None: a merchant it does not show)."""
    if outlets is None:
        return frozenset()
    try:
        if not isinstance(outlets, list):
            raise TypeError("outlets are a list")
        return frozenset(UUID(str(outlet["id"])) for outlet in outlets)
    except _MALFORMED as exc:
        raise _malformed("outlet list", exc) from exc


class HttpMerchantDirectory:
    """One per request: it carries the caller's credentials and remembers its answers.

    Only answers that parse are remembered or cached; a cached one that does not parse
    (written by another version, say) is a miss."""

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

    async def _pages(self, path: str) -> list[Any] | None:
        items: list[Any] = []
        cursor: str | None = None
        cursors_seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"limit": OUTLETS_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            page = await self._http.get(path, authorization=self._authorization, **params)
            if page is None:
                return None
            if not isinstance(page, dict) or not isinstance(page.get("items", []), list):
                raise _malformed("outlet page")
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                return items
            if not isinstance(cursor, str) or cursor in cursors_seen:
                raise _malformed("outlet cursor")  # paging in circles would never end
            cursors_seen.add(cursor)

    async def merchant(self, merchant_id: UUID) -> Merchant | None:
        key = merchant_key(merchant_id)
        body = await self._remembered(key)
        if body is not _UNSEEN:
            try:
                return None if body is None else merchant_from(body)
            except MerchantsUnavailable:
                pass  # a cached answer that does not parse: ask again
        body = await self._http.get(
            f"/api/v1/merchants/{merchant_id}", authorization=self._authorization
        )
        merchant = None if body is None else merchant_from(body)
        self._seen[key] = body
        # Only a verified merchant is cached: verification takes effect at once, and a
        # suspension as soon as its event arrives (svc_coupons.consumers).
        if merchant is not None and merchant.is_verified:
            await self._cache.put(key, body)
        return merchant

    async def outlet_ids(
        self, merchant_id: UUID, *, including: Collection[UUID] = ()
    ) -> frozenset[UUID]:
        key = outlets_key(merchant_id)
        outlets = await self._remembered(key)
        fresh = key in self._seen
        known: frozenset[UUID] | None = None
        if outlets is not _UNSEEN:
            try:
                known = outlet_ids_from(outlets)
            except MerchantsUnavailable:
                known = None  # a cached answer that does not parse: ask again
        if known is None or (not fresh and not set(including) <= known):
            # Not known, or an outlet younger than the cached list is asked for.
            outlets = await self._pages(f"/api/v1/merchants/{merchant_id}/outlets")
            known = outlet_ids_from(outlets)
            self._seen[key] = outlets
            if outlets is not None:
                await self._cache.put(key, outlets)
        return known
