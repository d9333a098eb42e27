"""The HTTP API in front of every service; each service stack adds its own routes."""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from core.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS
from infra.config import StageConfig
from infra.constructs.alarms import ApiAlarms

# HTTP API context variables, one JSON object per request. No `$context.path`: a coupon's
# code is part of its paths (/api/v1/coupons/codes/{code}/...), and the logs keep for
# months; the route key (`ANY /api/v1/coupons/{proxy+}`) and the request id say enough.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        alert_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=stage.resource_name("api"),
            description="Coupon exchange platform: every service under one API",
            # `$default` below: the stage name is then no part of the path (see PITFALLS).
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(stage.portal_origins),
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                # The local gateway allows the same (devstack.stack.cors).
                allow_headers=list(ALLOWED_HEADERS),
                expose_headers=list(EXPOSED_HEADERS),
                max_age=Duration.seconds(PREFLIGHT_MAX_AGE_SECONDS),
            ),
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=stage.log_retention, removal_policy=stage.removal_policy
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=stage.api_rate_limit, burst_limit=stage.api_burst_limit
            ),
            access_log_settings=_AccessLogSettings(access_logs),
        )
        # The issuer of the platform's tokens, unless a custom domain is put in front.
        self.endpoint = self.http_api.api_endpoint
        self.alarms = ApiAlarms(self, "Alarms", http_api=self.http_api, notify=alert_topic)
