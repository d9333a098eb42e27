"""The DynamoDB tables every service shares: the audit trail and the cache."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import StageConfig

# What core.events.sinks.AuditTrail and core.dynamo call: the functions get these and no more.
# The audit trail writes in batches, and item by item when DynamoDB refuses a batch.
AUDIT_ACTIONS = ("dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query")
CACHE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
CACHE_TTL_ATTRIBUTE = "expires_at"  # core.dynamo.WindowCounter


class PlatformTables(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        recovery = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
        # One partition per entity, its events sorted by time: permanent, so no TTL.
        self.audit = dynamodb.Table(
            self,
            "Audit",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=recovery,
            deletion_protection=stage.keep_data,
            removal_policy=stage.removal_policy,
        )
        # Login throttles, rate limits, revoked token ids: everything in it expires.
        self.cache = dynamodb.Table(
            self,
            "Cache",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=CACHE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=recovery,
            deletion_protection=stage.keep_data,
            removal_policy=stage.removal_policy,
        )
