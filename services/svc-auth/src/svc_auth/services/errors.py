"""svc-auth's errors: API problems (core.errors) and OAuth2 errors (RFC 6749 section 5.2)."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound, PlatformError

# How soon to try again when the limits' counters are out of reach: about the time the
# DynamoDB client rests after a timeout (core.aws_clients).
COUNTERS_RETRY_AFTER_SECONDS = 5


class EmailTaken(Conflict):
    code = "email_taken"
    title = "An account with this email exists"


class SignUpUnavailable(PlatformError):
    status = 503
    code = "sign_up_unavailable"
    title = "Sign-up is unavailable for a moment"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(COUNTERS_RETRY_AFTER_SECONDS)}


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "No such user"


class MemberNotFound(NotFound):
    code = "member_not_found"
    title = "No such member of this merchant"


class AlreadyMember(Conflict):
    code = "already_member"
    title = "The user is already a member of this merchant"


class OwnerNotRemovable(Conflict):
    code = "owner_not_removable"
    title = "A merchant's owner cannot be removed as a member"


class LastAdmin(Conflict):
    code = "last_admin"
    title = "The last admin cannot lose the admin role"


class InvalidRole(InvalidInput):
    code = "invalid_role"
    title = "This role cannot be granted here"


class InvalidScope(InvalidInput):
    code = "invalid_scope"
    title = "A requested scope is not allowed"


class OAuthError(Exception):
    """An error of the token or revocation endpoint, answered as `{"error": ...}`."""

    error = "invalid_request"
    status = 400
    # Whether the transaction keeps what was written before the error (a detected token
    # reuse revokes the family, and that must stick although the request fails).
    keep_changes = False
    # Seconds for a Retry-After header, when trying again later may succeed.
    retry_after: int | None = None

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    """A parameter is missing, repeated or malformed."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """The client is unknown, or its secret is wrong."""

    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    """The email or password is wrong, or the refresh token is unknown, used or expired."""

    error = "invalid_grant"


class RefreshTokenReused(InvalidGrant):
    keep_changes = True


class UnauthorizedClient(OAuthError):
    """This client may not use this grant."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """The grant_type is none of password, refresh_token, client_credentials."""

    error = "unsupported_grant_type"


class OAuthInvalidScope(OAuthError):
    """A requested scope is not allowed for this client or user."""

    error = "invalid_scope"


class LoginThrottled(OAuthError):
    """Too many failed sign-ins for the account or from the address, or requests from it."""

    error = "too_many_attempts"
    status = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class SignInUnavailable(OAuthError):
    """Sign-in attempts cannot be counted for a moment, so no password is checked."""

    error = "temporarily_unavailable"
    status = 503
    retry_after = COUNTERS_RETRY_AFTER_SECONDS
