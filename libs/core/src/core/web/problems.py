"""RFC 9457 problem documents for every error a caller can get."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.database.errors import DATABASE_ERRORS, caller_error
from core.errors import PlatformError
from core.web.middleware import loggable_path

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformError)
    # A refusal the service counts for the business (svc-coupons: sold out).
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        runtime.counters.count_refusal(runtime.metrics, exc.code)
    return problem(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers(), **exc.extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    where = ".".join(str(part) for part in first["loc"])
    return problem(
        422, "invalid_input", "The request is not valid", f"{where}: {first['msg']}", errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return problem(
        exc.status_code,
        code,
        code.replace("_", " ").capitalize(),
        str(exc.detail),
        headers=dict(exc.headers or {}),
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    known = caller_error(exc)
    if known is not None:
        return await _platform_error(request, known)
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, loggable_path(request.scope))
    return problem(
        500, "internal_error", "Internal error", "Something went wrong on our side; it was logged."
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PlatformError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in DATABASE_ERRORS:
        app.add_exception_handler(error_type, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
