"""Domain errors: each carries the HTTP status and code the API answers with."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        if code:
            self.code = code


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotConfirmed(Forbidden):
    code = "account_not_confirmed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class PayloadTooLarge(DomainError):
    status = 413
    code = "body_too_large"


class Invalid(DomainError):
    """A field is well-formed but not acceptable (422), e.g. a weak password."""
    status = 422
    code = "invalid"


class CodeInvalid(Invalid):
    code = "code_invalid"


class CodeExpired(Invalid):
    code = "code_expired"


class TooManyRequests(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int | None = None, **kwargs):
        headers = {"Retry-After": str(retry_after_seconds)} if retry_after_seconds else None
        super().__init__(message, headers=headers, **kwargs)


class UpstreamFailed(DomainError):
    """A service we depend on (Stripe) answered with an error or not at all."""
    status = 502
    code = "upstream_failed"
