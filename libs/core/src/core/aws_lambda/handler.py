"""One AWS Lambda function per service, answering every kind of event the service receives.

- API Gateway HTTP API requests (payload format 2.0) go through Mangum to the FastAPI app.
- EventBridge events from other services go to the app's idempotent consumer for their
  `detail-type`; `detail` is a `DomainEvent.to_message()`.
- The scheduled EventBridge event ("Scheduled Event" from `aws.events`) sweeps the outbox.
- Events a request commits are delivered after the response by the function's internal
  extension (core.aws_lambda.extension) when LAMBDA_DELIVERY_EXTENSION is on and the
  Extensions API took it; otherwise before the invocation returns (inline: a frozen
  execution environment runs no background work).
- `{"action": "migrate"}` runs the service's migrations (core.aws_lambda.migration); the
  deploy trigger sends the same action inside a CloudFormation custom resource event.
- `{"action": "replay-outbox", "event_ids": [...]}` (ids optional: all) gives dead-lettered
  outbox events another round of attempts; the next sweep delivers them.

One event loop serves every invocation of an execution environment, so the SQLAlchemy pool
(bound to the loop it first ran on) is reused by HTTP requests, events and sweeps alike.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import correlation
from core.aws_lambda.extension import DeliveryExtension
from core.aws_lambda.migration import migrate_service
from core.aws_lambda.snapstart import register_restore_hooks
from core.heap import settle_heap
from core.metrics.emf import flush as flush_metrics
from core.tracing import tracing_enabled
from core.tracing.database import trace_database

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

LambdaEvent = dict[str, Any]

MIGRATE = "migrate"
SWEEP_OUTBOX = "sweep-outbox"
REPLAY_OUTBOX = "replay-outbox"
# How long an invocation waits for the last one's deliveries. Lambda starts none before the
# extension asked for it, so this wait is only ever met where the handler runs outside Lambda.
DELIVERY_WAIT_SECONDS = 30.0


class OutboxDeliveryFailed(RuntimeError):
    """The scheduled sweep found events it still cannot deliver."""


class UnknownEventError(ValueError):
    """An event this function has no use for: a misrouted rule or a mistyped manual payload.

    Raised rather than ignored, so that Lambda's retries end in the dead-letter queue where
    someone sees it, instead of the event silently vanishing.
    """


class ServiceLambdaHandler:
    """The `handler` of a service's `main.py`; see the module docstring for what it answers."""

    def __init__(self, app: FastAPI, *, service_dir: Path) -> None:
        self._app = app
        self._service_dir = service_dir
        self._loop = asyncio.new_event_loop()
        self._http: Callable[[LambdaEvent, Any], dict[str, Any]] | None = None
        self._extension: DeliveryExtension | None = None

    @property
    def service(self) -> str:
        name: str = self._app.state.runtime.name
        return name

    def start_delivery_extension(self, runtime_api: str) -> bool:
        """Registers the extension that delivers events after the response (at init)."""
        extension = DeliveryExtension(runtime_api, self._deliver_after_response)
        if not extension.start():
            return False
        self._extension = extension
        return True

    def _deliver_after_response(self) -> None:
        """The extension's delivery, on the handler's loop: idle, since the handler returned
        and the next invocation waits for the extension."""
        if self._loop.is_running():
            logger.error("the handler's loop is busy; events stay queued for the next round")
            return
        self._loop.run_until_complete(self._app.state.runtime.relay.deliver_after_response())

    def _after_response(self) -> bool:
        """Whether this invocation's events go after the response: the extension is up and
        done with the last invocation's."""
        extension = self._extension
        return (
            extension is not None
            and extension.alive
            and extension.wait_idle(DELIVERY_WAIT_SECONDS)
            and extension.alive
        )

    def __call__(self, event: LambdaEvent, context: Any) -> dict[str, Any]:
        # Lambda freezes the execution environment once the answer is returned (and its
        # extensions asked for their next event): a background delivery worker would not run
        # until some later invocation, if ever. Events go after the response through the
        # extension, else before the invocation ends, whatever EVENT_DELIVERY says; set here,
        # on invocation, so that serving the same module's `app` with uvicorn is unaffected.
        runtime = self._app.state.runtime
        after_response = self._after_response()
        runtime.relay.mode = "after_response" if after_response else "inline"
        runtime.metrics.publishing = True
        # Mangum runs the request on the thread's current loop: make it ours, every time, so
        # that requests and the other events below share one loop and one connection pool.
        asyncio.set_event_loop(self._loop)
        try:
            if "requestContext" in event:
                return self._http_adapter()(event, context)
            return self._loop.run_until_complete(self._dispatch(event, context))
        finally:
            # The invocation's metrics, as EMF lines in the function's log group: published
            # before the environment freezes, without an API call.
            flush_metrics(runtime.metrics)
            if after_response and self._extension is not None:
                self._extension.invocation_returned()

    def _http_adapter(self) -> Callable[[LambdaEvent, Any], dict[str, Any]]:
        if self._http is None:
            from mangum import Mangum

            # lifespan="off": a lifespan would run on every invocation; the runtime connects
            # lazily instead (see core.runtime).
            self._http = Mangum(self._app, lifespan="off")
        return self._http

    async def _dispatch(self, event: LambdaEvent, context: Any) -> dict[str, Any]:
        if "RequestType" in event and "ResourceProperties" in event:
            return await self._custom_resource(event, context)
        if "detail-type" in event and "detail" in event:
            if event.get("source") == "aws.events" and event["detail-type"] == "Scheduled Event":
                return await self._sweep()
            return await self._consume(event)
        action = event.get("action")
        if action == MIGRATE:
            return await self._migrate(context)
        if action == SWEEP_OUTBOX:
            return await self._sweep()
        if action == REPLAY_OUTBOX:
            return await self._replay(event.get("event_ids"))
        raise UnknownEventError(f"{self.service}: no handler for event with keys {sorted(event)}")

    async def _consume(self, event: LambdaEvent) -> dict[str, Any]:
        from core.events.model import DomainEvent

        detail_type = event["detail-type"]
        consumers: dict[str, Callable[[DomainEvent], Awaitable[bool]]] = getattr(
            self._app.state, "consumers", {}
        )
        consumer = consumers.get(detail_type)
        if consumer is None:
            raise UnknownEventError(f"{self.service} consumes no {detail_type!r} events")
        domain_event = DomainEvent.from_message(event["detail"])
        # This invocation's log lines belong to the request that caused the event (the task
        # running it has a context of its own, dropped when it ends).
        correlation.correlation_id.set(domain_event.correlation_id)
        processed = await consumer(domain_event)
        logger.info(
            "event %s (%s) %s",
            domain_event.id,
            detail_type,
            "processed" if processed else "already processed",
        )
        return {"event_id": str(domain_event.id), "type": detail_type, "processed": processed}

    async def _sweep(self) -> dict[str, Any]:
        # The service's chores (a failing one raises ChoresFailed after the outbox is swept),
        # then the outbox.
        result = await self._app.state.runtime.sweep()
        if result.failed:
            # Recorded on the rows already; raising makes a lasting outage reach the
            # function's Errors alarm instead of piling up unseen.
            raise OutboxDeliveryFailed(
                f"{result.failed} outbox events still undeliverable ({result.delivered} delivered)"
            )
        return {"swept": result.delivered}

    async def _replay(self, event_ids: list[str] | None) -> dict[str, Any]:
        from uuid import UUID

        ids = [UUID(event_id) for event_id in event_ids] if event_ids else None
        return {"replayed": await self._app.state.runtime.relay.replay(ids)}

    async def _migrate(self, context: Any) -> dict[str, Any]:
        return await migrate_service(
            self._app,
            service_dir=self._service_dir,
            seconds_left=context.get_remaining_time_in_millis() / 1000,
        )

    async def _custom_resource(self, event: LambdaEvent, context: Any) -> dict[str, Any]:
        """The deploy trigger, called by the CDK provider framework with a custom resource event.

        Create and Update carry an `action` in the resource's properties; Delete changes
        nothing (a service's schema outlives the removal of its migration trigger).
        """
        physical_id = f"{self.service}-{event['ResourceProperties'].get('action')}"
        if event["RequestType"] != "Delete":
            await self._dispatch({"action": event["ResourceProperties"].get("action")}, context)
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id}


def lambda_handler(app: FastAPI, *, service_dir: Path) -> ServiceLambdaHandler:
    """`handler = lambda_handler(app, service_dir=Path(__file__).parent)` in a `main.py`.

    Called at import, the end of the cold start: what the start built is set aside from
    the collector's work (core.heap)."""
    handler = ServiceLambdaHandler(app, service_dir=service_dir)
    runtime_api = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if runtime_api and app.state.runtime.settings.lambda_delivery_extension:
        handler.start_delivery_extension(runtime_api)
    if tracing_enabled():  # Lambda with active tracing: its statements are subsegments
        trace_database()
    register_restore_hooks()
    settle_heap()
    return handler
