"""What a portal's browser may send to the API and read from its answers (CORS).

The HTTP API allows these in AWS (infra.stacks.api); the local gateway allows the same
(devstack.stack.cors). The origins differ: each stage names its portals'.
"""

from __future__ import annotations

# x-correlation-id (core.correlation): a portal may tie its calls together, and read the id
# an operator finds every log line and event of the request by.
ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
    "x-correlation-id",
)
EXPOSED_HEADERS = (
    "x-request-id",
    "x-correlation-id",
    "idempotent-replayed",
    "retry-after",
    "location",
)
PREFLIGHT_MAX_AGE_SECONDS = 3600
