"""The names of the platform's metrics: what the services record (core.metrics) and what
the CDK app's alarms and dashboards read (infra.constructs.service_metrics).

CloudWatch receives them as embedded metric format (EMF) log lines: no API call is made
to publish a metric. One namespace per stage, so that two stages in one account never mix.
"""

from __future__ import annotations

NAMESPACE_PREFIX = "CouponPlatform"


def namespace(stage: str) -> str:
    """CouponPlatform/dev, CouponPlatform/prod; CouponPlatform/local for a local stack."""
    return f"{NAMESPACE_PREFIX}/{stage}"


# Dimensions
SERVICE = "Service"
ROUTE = "Route"  # "POST /api/v1/campaigns/{campaign_id}/claims": the template, never a value
STATUS_CLASS = "StatusClass"  # 2xx, 3xx, 4xx, 5xx
EVENT = "Event"  # a business counter's name

# Every HTTP request: its duration, by service, by status class, by route and status class.
# The sample count of a dimension set is its number of requests.
LATENCY = "Latency"
LATENCY_DIMENSIONS: tuple[tuple[str, ...], ...] = (
    (SERVICE,),
    (SERVICE, STATUS_CLASS),
    (SERVICE, ROUTE, STATUS_CLASS),
)
SERVER_ERROR_CLASS = "5xx"

# Business counters by their Event dimension (claims, redemptions...): what committed, or
# what a refusal the service names (a sold-out campaign) answered.
BUSINESS_EVENTS = "BusinessEvents"

# From each outbox sweep: the age of the oldest event still undelivered after it (0 when
# none is), and the events it gave up on.
OUTBOX_LAG = "OutboxLagSeconds"
OUTBOX_DEAD_LETTERED = "OutboxDeadLettered"
