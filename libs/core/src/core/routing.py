"""The route table: which public path prefixes belong to which service.

The local gateway and the CDK app both read this, so a prefix is added in one place.
Kept free of imports so infrastructure code can read it without the web stack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRoutes:
    name: str  # auth, merchants, coupons
    package: str  # the Python package of the service
    directory: str  # under services/
    prefixes: tuple[str, ...]

    @property
    def graphql_path(self) -> str:
        return f"/graphql/{self.name}"


SERVICES: tuple[ServiceRoutes, ...] = (
    ServiceRoutes(
        name="auth",
        package="svc_auth",
        directory="svc-auth",
        prefixes=("/api/v1/auth", "/.well-known", "/graphql/auth"),
    ),
    ServiceRoutes(
        name="merchants",
        package="svc_merchants",
        directory="svc-merchants",
        prefixes=("/api/v1/merchants", "/graphql/merchants"),
    ),
    ServiceRoutes(
        name="coupons",
        package="svc_coupons",
        directory="svc-coupons",
        prefixes=(
            "/api/v1/campaigns",
            "/api/v1/coupons",
            "/api/v1/wallet",
            "/api/v1/exchange",
            "/api/v1/transfers",
            "/api/v1/allocations",
            "/graphql/coupons",
        ),
    ),
)


def service_for_path(path: str) -> ServiceRoutes | None:
    best: tuple[int, ServiceRoutes] | None = None
    for service in SERVICES:
        for prefix in service.prefixes:
            if (path == prefix or path.startswith(prefix + "/")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), service)
    return best[1] if best else None
