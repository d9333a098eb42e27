"""One error base for the platform: every failure a caller may see has a status and a code."""

from __future__ import annotations

from typing import Any, ClassVar


class PlatformError(Exception):
    """Base of every error the API shows its callers.

    Subclasses set `status`, a stable snake_case `code` and a `title`; the instance
    carries a human `detail` and optional extra members for the problem document.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def headers(self) -> dict[str, str]:
        return {}


class InvalidInput(PlatformError):
    status = 422
    code = "invalid_input"
    title = "The request is not valid"


class Unauthenticated(PlatformError):
    status = 401
    code = "unauthenticated"
    title = "A valid access token is required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(PlatformError):
    status = 403
    code = "forbidden"
    title = "The caller may not do this"


class NotFound(PlatformError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(PlatformError):
    status = 409
    code = "conflict"
    title = "The object's state forbids this"


class TooManyRequests(PlatformError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
