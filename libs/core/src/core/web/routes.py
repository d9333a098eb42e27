"""Routes that own their transaction, and honour `Idempotency-Key` on POST."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.dependencies import authenticate
from core.database.unit_of_work import UnitOfWork
from core.errors import Unauthenticated
from core.idempotency import (
    FINGERPRINT_PURPOSE,
    HeldKey,
    IdempotencyStore,
    StoredResponse,
    answered_by_statement,
    check_key,
    hold_key,
    request_fingerprint,
)
from core.runtime import ServiceRuntime

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
READING_METHODS = frozenset({"GET", "HEAD"})


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


class TransactionalRoute(APIRoute):
    """Runs the endpoint in a unit of work: committed before the response leaves, or rolled
    back when the endpoint raises or answers an error."""

    honours_idempotency_key = True
    rolls_back_error_responses = True

    def get_route_handler(self) -> Handler:
        endpoint = super().get_route_handler()
        idempotent = self.honours_idempotency_key and "POST" in (self.methods or ())
        # GET and HEAD change nothing (HTTP says they are safe; our routes keep to that).
        reads_only = (self.methods or set()) <= READING_METHODS
        if not self.rolls_back_error_responses:
            return self._without_status_rollback(endpoint)

        async def handle(request: Request) -> Response:
            runtime = runtime_of(request)
            key = request.headers.get("idempotency-key") if idempotent else None
            if key is not None and self.bears_credentials(await request.body()):
                key = None  # a credential is never fingerprinted nor its answer kept
            if key is not None:
                self.check_keyed_body(await request.body())
            if key is None:
                uow = runtime.unit_of_work(reads_only=reads_only)
                return await _run(endpoint, request, uow)
            return await _run_idempotent(endpoint, request, runtime, check_key(key))

        return handle

    def bears_credentials(self, body: bytes) -> bool:
        """Whether this request's body holds a credential (a password): then its
        Idempotency-Key is ignored, so nothing of it reaches the idempotency table. A route
        class says so for all its routes (CredentialRoute); GraphQL per operation."""
        return False

    def check_keyed_body(self, body: bytes) -> None:
        """Refuses (PlatformError) a body this route cannot replay safely under an
        Idempotency-Key; GraphQL refuses per document, REST routes accept every body."""

    @staticmethod
    def _without_status_rollback(endpoint: Handler) -> Handler:
        async def handle(request: Request) -> Response:
            uow = runtime_of(request).unit_of_work()
            request.state.uow = uow
            async with uow:
                return await endpoint(request)

        return handle


class CredentialRoute(TransactionalRoute):
    """Routes whose body carries a credential (sign-up's password): they do not honour
    Idempotency-Key, so neither the body's fingerprint nor the answer is kept anywhere."""

    honours_idempotency_key = False


class OAuthRoute(CredentialRoute):
    """OAuth2 endpoints: token responses are never stored for replay, and an error answer
    decides itself whether its writes stay (a detected refresh-token reuse must)."""

    rolls_back_error_responses = False


async def _run(endpoint: Handler, request: Request, uow: UnitOfWork) -> Response:
    request.state.uow = uow
    async with uow:
        response = await endpoint(request)
        if response.status_code >= 400:
            uow.rollback_only = True
    return response


async def _run_idempotent(
    endpoint: Handler, request: Request, runtime: ServiceRuntime, key: str
) -> Response:
    try:
        principal = authenticate(request)
    except Unauthenticated:
        # Let the endpoint answer 401 as it always does; nothing is stored.
        return await _run(endpoint, request, runtime.unit_of_work())
    caller = principal.subject if principal else "anonymous"
    store = IdempotencyStore(
        runtime.database,
        runtime.tables.idempotency_keys,
        takeover_after=runtime.settings.idempotency_takeover_after,
    )
    body = await request.body()
    fingerprint, *earlier_fingerprints = (
        request_fingerprint(
            fingerprint_key, request.method, request.url.path, request.url.query, body
        )
        for fingerprint_key in runtime.server_keys.keys_for(FINGERPRINT_PURPOSE)
    )
    claimed = await store.claim(
        caller=caller,
        key=key,
        fingerprint=fingerprint,
        earlier_fingerprints=earlier_fingerprints,
    )
    if isinstance(claimed, StoredResponse):
        return Response(
            content=runtime.answer_sealer.open(claimed.body, caller=caller, key=key),
            status_code=claimed.status,
            media_type=claimed.media_type,
            # A replayed answer may hold a code or a secret, as the first one did.
            headers={"Idempotent-Replayed": "true", "Cache-Control": "no-store"},
        )
    uow = runtime.unit_of_work()
    request.state.uow = uow
    sealer = runtime.answer_sealer
    hold_key(
        uow.session,
        HeldKey(claimed, lambda answer: sealer.seal(answer, caller=caller, key=key)),
    )
    try:
        async with uow:
            response = await endpoint(request)
            secret = getattr(request.state, SECRET_ANSWER, False)
            if response.status_code >= 400:
                uow.rollback_only = True
            elif answered_by_statement(uow.session):
                pass  # its one statement stored the answer with the work (core.idempotency)
            else:
                # Commits with the work only while the claim is still this request's.
                await store.complete(
                    uow.session,
                    claimed,
                    None
                    if secret
                    else StoredResponse(
                        response.status_code,
                        runtime.answer_sealer.seal(bytes(response.body), caller=caller, key=key),
                        response.media_type,
                    ),
                )
    except BaseException:
        await store.release(claimed)
        raise
    if uow.rollback_only or secret:
        await store.release(claimed)
    return response


SECRET_ANSWER = "secret_answer"


def answer_holds_a_secret(request: Request) -> str | None:
    """For an endpoint (or resolver) whose answer holds a secret no table may keep (a
    gift's claim token): the answer is not stored for Idempotency-Key replay, and the key,
    checked, is handed to the service, which keeps it with its own record and answers a
    retry from that. The key is still claimed while the request runs, so a concurrent
    duplicate gets 409 as usual."""
    setattr(request.state, SECRET_ANSWER, True)
    key = request.headers.get("idempotency-key")
    return None if key is None else check_key(key)


def service_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes own their transaction."""
    return APIRouter(route_class=TransactionalRoute, **kwargs)


def get_unit_of_work(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.state.uow
    return uow


def get_session(request: Request) -> AsyncSession:
    return get_unit_of_work(request).session


# `async def` so FastAPI calls them on the loop instead of hopping to the thread pool.
async def _session_dependency(request: Request) -> AsyncSession:
    return get_session(request)


async def _runtime_dependency(request: Request) -> ServiceRuntime:
    return runtime_of(request)


SessionDep = Annotated[AsyncSession, Depends(_session_dependency)]
RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime_dependency)]


async def _secret_answer_key(request: Request) -> str | None:
    return answer_holds_a_secret(request)


SecretAnswerKeyDep = Annotated[str | None, Depends(_secret_answer_key)]
"""The Idempotency-Key of a request whose answer holds a secret (answer_holds_a_secret)."""
