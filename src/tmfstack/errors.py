"""The one exception tree of tmfstack, mapped to TMF Error bodies at the HTTP edge.

    TmfError (status 500)
     ├── BadRequest (400)           malformed JSON, bad query, schema violation
     │    └── InvalidQuery (400)     unknown operator, malformed filter/paging value
     ├── Unauthorized (401)         no bearer token, or one that is not valid
     ├── Forbidden (403)            a valid token without the scope the operation needs
     ├── NotFound (404)
     ├── MethodNotAllowed (405)
     ├── PreconditionFailed (412)   If-Match does not match the current ETag
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── Unprocessable (422)        a valid body the business rules refuse (strict ordering)
     ├── TooManyRequests (429)      the client's (or address's) rate limit is spent
     ├── Conflict (409)             duplicate id, business conflict
     │    ├── ConcurrentUpdate (409)   a compare-and-set write lost a race (retryable)
     │    └── InvalidTransition (409)  a state/lifecycle change the machine refuses
     └── ServiceUnavailable (503)

Domain and engine code raise these; the edge turns ``exc.to_error()`` into the body.
Storage drivers' errors are translated inside the store and never surface here.
"""

from __future__ import annotations

from typing import Any


class TmfError(Exception):
    status = 500
    code = "INTERNAL"
    reason = "Internal error"
    #: the ``Allow`` header of a 405 and the ``WWW-Authenticate`` challenge of a 401/403, when set
    allow: str | None = None
    challenge: str | None = None

    def __init__(self, message: str, *, code: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if reason:
            self.reason = reason

    def to_error(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "status": str(self.status),
            "@type": "Error",
        }


class BadRequest(TmfError):
    status, code, reason = 400, "BAD_REQUEST", "Bad request"


class InvalidQuery(BadRequest):
    code, reason = "INVALID_QUERY", "Invalid query parameter"


class Unauthorized(TmfError):
    status, code, reason = 401, "UNAUTHORIZED", "Authentication required"


class Forbidden(TmfError):
    status, code, reason = 403, "FORBIDDEN", "Insufficient scope"


class NotFound(TmfError):
    status, code, reason = 404, "NOT_FOUND", "Resource not found"


class MethodNotAllowed(TmfError):
    status, code, reason = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(TmfError):
    status, code, reason = 409, "CONFLICT", "Conflict"


class ConcurrentUpdate(Conflict):
    code, reason = "CONCURRENT_UPDATE", "Concurrent update"


class StaleVersion(ConcurrentUpdate):
    """A compare-and-set write found a newer version: the transaction itself is still usable
    (unlike a deadlock), so the caller may pick another row and carry on."""


class InvalidTransition(Conflict):
    code, reason = "INVALID_TRANSITION", "State transition not allowed"


class PreconditionFailed(TmfError):
    status, code, reason = 412, "PRECONDITION_FAILED", "Precondition failed"


class PayloadTooLarge(TmfError):
    status, code, reason = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class Unprocessable(TmfError):
    status, code, reason = 422, "UNPROCESSABLE", "Request cannot be processed"


class TooManyRequests(TmfError):
    status, code, reason = 429, "TOO_MANY_REQUESTS", "Rate limit exceeded"


class UnsupportedMediaType(TmfError):
    status, code, reason = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class ServiceUnavailable(TmfError):
    status, code, reason = 503, "UNAVAILABLE", "Service unavailable"
