"""X-Ray subsegments for what a Lambda invocation waits on: PostgreSQL, DynamoDB,
EventBridge, svc-merchants. Sent as the X-Ray SDK sends them, one UDP datagram each to
the function's X-Ray daemon, without the SDK (its import costs a cold start 340 to 730 ms
here). Nothing is recorded outside Lambda, or for an invocation X-Ray did not sample.

Names are fixed and attributes are chosen: no coupon code, SQL text or bound value is
ever sent.
"""

from core.tracing.xray import TraceContext, current_trace, subsegment, tracing_enabled

__all__ = ["TraceContext", "current_trace", "subsegment", "tracing_enabled"]
