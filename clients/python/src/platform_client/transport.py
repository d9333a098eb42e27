"""What every generated API class calls through: one httpx client, an optional token."""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import quote

import httpx


class ProblemError(Exception):
    """An error answer: a problem document (RFC 9457) or, from the token endpoint, an
    RFC 6749 error. `code` is its stable machine code (`error` for the latter)."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        self.code: str | None = self.body.get("code") or self.body.get("error")
        super().__init__(f"{self.status} {self.code}: {self.body.get('detail', response.text)}")


def _path(value: object) -> str:
    return quote(str(value), safe="")


def _present(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in values.items() if v is not None} if values else None


class Transport:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        """`http` has the platform's base URL (or an ASGI transport, in tests)."""
        self._http = http
        self._token = token

    def with_token(self, token: str | None) -> Self:
        """The same API as another caller, over the same connections."""
        return type(self)(self._http, token)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
    ) -> Any:
        sent = {k: str(v) for k, v in (_present(headers) or {}).items()}
        if self._token:
            sent["Authorization"] = f"Bearer {self._token}"
        response = await self._http.request(
            method, url, json=json, data=data, params=_present(params), headers=sent
        )
        if response.status_code >= 400:
            raise ProblemError(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
