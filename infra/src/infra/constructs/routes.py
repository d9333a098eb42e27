"""A service's share of the HTTP API: its prefixes from the route table, to its function."""

from __future__ import annotations

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from core.routing import ServiceRoutes
from infra.nag import accept


def route_paths(prefix: str) -> tuple[str, str]:
    """The prefix itself and everything under it, as the local gateway matches them."""
    return prefix, f"{prefix}/{{proxy+}}"


class ServiceApiRoutes(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: ServiceRoutes,
        http_api: apigwv2.IHttpApi,
        function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id)
        integration = integrations.HttpLambdaIntegration(
            "Integration",
            function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        self.routes: list[apigwv2.HttpRoute] = []
        for index, prefix in enumerate(service.prefixes):
            for kind, path in zip(("Exact", "Below"), route_paths(prefix), strict=True):
                self.routes.append(
                    apigwv2.HttpRoute(
                        self,
                        f"Prefix{index}{kind}",
                        http_api=http_api,
                        route_key=apigwv2.HttpRouteKey.with_(path, apigwv2.HttpMethod.ANY),
                        integration=integration,
                    )
                )
        accept(
            self,
            "APIG4",
            "The services authenticate callers themselves: the OAuth2 token, JWKS and "
            "discovery endpoints are public by design, and every other endpoint verifies the "
            "bearer JWT (core.auth) and authorizes per object.",
        )
