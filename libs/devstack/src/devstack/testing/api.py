"""Driving the public API from tests and benchmarks, as a portal would."""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_PASSWORD = "correct horse battery"


def expect(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of an answer with `status`; an assertion showing the body otherwise."""
    assert response.status_code == status, response.text
    return response.json()


class AuthApi:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def register(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        response = await self.http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": email.split("@")[0]},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def token(self, **form: str) -> httpx.Response:
        return await self.http.post("/api/v1/auth/token", data=form)

    async def login(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        client_id: str = "customer-portal",
        **extra: str,
    ) -> dict[str, Any]:
        response = await self.token(
            grant_type="password", username=email, password=password, client_id=client_id, **extra
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def bearer(token: str | dict[str, Any]) -> dict[str, str]:
    value = token["access_token"] if isinstance(token, dict) else token
    return {"Authorization": f"Bearer {value}"}


class MerchantsApi:
    """svc-merchants as the merchant and admin portals use it; tokens are passed per call."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def apply(self, token: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "Corner Bakery", "country": "DE", "currency": "EUR"}
        body |= {"timezone": "Europe/Berlin", **fields}
        response = await self.http.post("/api/v1/merchants", json=body, headers=bearer(token))
        assert response.status_code == 201, response.text
        merchant: dict[str, Any] = response.json()
        return merchant

    async def verify(self, admin_token: str, merchant_id: str) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/merchants/{merchant_id}/verify", headers=bearer(admin_token)
        )
        assert response.status_code == 200, response.text
        merchant: dict[str, Any] = response.json()
        return merchant

    async def create_outlet(self, token: str, merchant_id: str, **fields: Any) -> dict[str, Any]:
        body = {"name": "Main street", "address": "Hauptstraße 1, 10115 Berlin", **fields}
        response = await self.http.post(
            f"/api/v1/merchants/{merchant_id}/outlets", json=body, headers=bearer(token)
        )
        assert response.status_code == 201, response.text
        outlet: dict[str, Any] = response.json()
        return outlet
