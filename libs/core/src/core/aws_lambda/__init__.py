"""What a service's AWS Lambda function runs, one module per job:

- handler: the function's handler, answering every kind of event the service receives;
- migration: its `migrate` action (the deploy trigger);
- secret_environment: the secrets read from Secrets Manager at cold start, and the
  database password read again after a rotation;
- database_role: the service's own database role, made by its stack's bootstrap step.

A service's main.py imports `lambda_handler` and `load_secret_environment` from here.
"""

from core.aws_lambda.database_role import (
    bootstrap_database_role,
    connect_when_ready,
    ensure_service_role,
)
from core.aws_lambda.handler import (
    MIGRATE,
    REPLAY_OUTBOX,
    SWEEP_OUTBOX,
    OutboxDeliveryFailed,
    ServiceLambdaHandler,
    UnknownEventError,
    lambda_handler,
)
from core.aws_lambda.secret_environment import DatabaseCredentials, load_secret_environment

__all__ = [
    "MIGRATE",
    "REPLAY_OUTBOX",
    "SWEEP_OUTBOX",
    "DatabaseCredentials",
    "OutboxDeliveryFailed",
    "ServiceLambdaHandler",
    "UnknownEventError",
    "bootstrap_database_role",
    "connect_when_ready",
    "ensure_service_role",
    "lambda_handler",
    "load_secret_environment",
]
