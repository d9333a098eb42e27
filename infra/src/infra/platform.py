"""What the shared stacks hand to every service stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns

from infra.metrics import SharedMetrics


@dataclass(frozen=True)
class PlatformResources:
    vpc: ec2.IVpc
    services_subnets: ec2.SubnetSelection
    services_security_group: ec2.ISecurityGroup
    # Read only by each service stack's bootstrap step (constructs/database_role.py).
    database_master_secret: secretsmanager.ISecret
    # Service name -> the credentials of its own login role.
    service_database_secrets: Mapping[str, secretsmanager.ISecret]
    database_proxy: rds.IDatabaseProxy
    # The data stack's metrics (database, proxy, tables), for each service's dashboard.
    shared_metrics: SharedMetrics
    audit_table: dynamodb.ITable
    cache_table: dynamodb.ITable
    event_bus: events.IEventBus
    alert_topic: sns.ITopic
    http_api: apigwv2.IHttpApi
    api_endpoint: str
