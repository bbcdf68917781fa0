"""The gate every request passes before it is served: who calls, may it, and not too often.

    /health                         open (probes), never throttled
    /oauth2/token, /.well-known/*   open; throttled per source address
    /activation/callback/{id}       a bearer token with ``activation``, or the callback's
                                    signature (checked by the endpoint); per address otherwise
    /admin/*                        a bearer token with ``admin``
    /tmf-api/<api>/…                a bearer token with ``<api>:read`` (GET, HEAD, hub) or
                                    ``<api>:write`` (POST, PATCH, PUT, DELETE); the scope is checked
                                    by the TMF router (``require``) once it has resolved the API
    anything else                   a valid bearer token (then 404)

A missing or bad token is a 401 with ``WWW-Authenticate: Bearer`` (RFC 6750) and a TMF Error
body; a valid one without the scope a 403 (``insufficient_scope``); a spent rate limit a 429
with ``Retry-After``. Requests without a valid token are throttled per source address before
they are told so, which bounds guessing. The principal goes to the handlers in the ASGI scope
(``PRINCIPAL``); the rate-limit header fields are added to every response.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.principal import LOCAL_OPERATOR, Principal
from ..auth.ratelimit import Policy
from ..auth.ratelimit import headers as limit_headers
from ..auth.scopes import ACTIVATION, ADMIN, ScopeTable
from ..auth.security import Security
from ..auth.tokens import InvalidToken, VerifierUnavailable
from ..errors import Forbidden, ServiceUnavailable, TmfError, TooManyRequests, Unauthorized

PRINCIPAL = "tmfstack.principal"
#: the rate-limit header fields the TMF router adds to its response (no send wrapper on the hot path)
HEADERS = "tmfstack.headers"
REALM = 'Bearer realm="tmfstack"'
OPEN = frozenset({"/health"})
ANONYMOUS = frozenset({"/oauth2/token", "/.well-known/jwks.json", "/.well-known/oauth-authorization-server"})
CALLBACK = "/activation/callback/"


@dataclass
class Refusal:
    error: TmfError
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def principal_of(scope: Scope) -> Principal | None:
    """The caller of a request the gate let in: the local operator when auth is off, None when
    the request came without a token to a route that allows that (the token endpoint, a
    signed activation callback)."""
    found = scope.get(PRINCIPAL)
    return found if isinstance(found, Principal) else None


def _bearer(scope: Scope) -> tuple[bool, bytes | None]:
    """(an Authorization header was sent, the bearer token in it, as sent: bytes)."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            if value[:7].lower() == b"bearer ":
                return True, value[7:].strip() or None
            kind, _, token = value.strip().partition(b" ")  # odd spacing, or another scheme
            return True, (token.strip() or None) if kind.lower() == b"bearer" else None
    return False, None


@functools.cache
def _needed(key: str, method: str, hub: bool) -> str:
    return f"{key}:read" if hub else ScopeTable.needed(key, method)


def require(principal: Principal, key: str, method: str, hub: bool) -> None:
    """A TMF operation of API ``key`` needs its read scope (GET, HEAD, and every hub operation)
    or its write scope; a 403 names the one missing (RFC 6750 ``insufficient_scope``)."""
    needed = _needed(key, method, hub)
    if not principal.allows(needed):
        error = Forbidden(f"this operation needs the scope {needed}", code="INSUFFICIENT_SCOPE")
        error.challenge = f'{REALM}, error="insufficient_scope", scope="{needed}"'
        raise error


class Gate:
    def __init__(self, security: Security | None) -> None:
        self.security = security

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, app: ASGIApp, own_headers: bool = False
    ) -> None:
        """Serve ``scope`` with ``app`` (an ASGI callable) if the gate lets it in, else answer the refusal.

        ``own_headers``: the app adds ``scope[HEADERS]`` to its response itself (the TMF router)."""
        path = scope["path"]
        if self.security is None or path in OPEN:
            scope[PRINCIPAL] = LOCAL_OPERATOR
            await app(scope, receive, send)
            return
        admitted = self.admit_known(scope) or await self.admit(scope)
        if isinstance(admitted, Refusal):
            await _refuse(admitted, send)
            return
        principal, extra = admitted
        scope[PRINCIPAL] = principal
        if own_headers:
            scope[HEADERS] = extra
            await app(scope, receive, send)
        else:
            await app(scope, receive, _with_headers(send, extra))

    def admit_known(self, scope: Scope) -> tuple[Principal, list[tuple[bytes, bytes]]] | None:
        """The hot path, without awaiting: a TMF request with a token verified lately, with
        in-memory buckets (the scope is the router's). Anything else (None) takes ``admit``."""
        security = self.security
        assert security is not None
        memory = security.memory_limiter
        if memory is None or not scope["path"].startswith("/tmf-api/"):
            return None
        token = _bearer(scope)[1]
        found = security.remembered(token) if token is not None else None
        if found is None:
            return None
        extra = memory.hit_fields(found.key, found.policy, found.fields)
        return None if extra is None else (found.principal, extra)  # refused: ``admit`` answers it

    async def admit(self, scope: Scope) -> tuple[Principal | None, list[tuple[bytes, bytes]]] | Refusal:
        security = self.security
        assert security is not None
        path, method = scope["path"], scope["method"]
        sent, token = _bearer(scope)
        if path in ANONYMOUS or (path.startswith(CALLBACK) and not sent):
            return await self._per_address(scope, None)
        if token is None:
            refusal = await self._per_address(scope, Unauthorized("a bearer token is required (RFC 6750)"))
            if isinstance(refusal, Refusal):
                refusal.headers.append((b"www-authenticate", REALM.encode()))
            return refusal
        found = security.remembered(token)
        if found is None:
            # a token not verified lately costs a signature check: the sender's address pays for it
            # first, so that a flood of forged tokens is throttled before it costs CPU
            checked = await self._per_address(scope, None)
            if isinstance(checked, Refusal):
                return checked
            try:
                found = await security.authenticate(token)
            except InvalidToken as exc:
                challenge = f'{REALM}, error="invalid_token", error_description="{_quoted(str(exc))}"'
                error: TmfError = Unauthorized(str(exc), code="INVALID_TOKEN")
                return Refusal(error, [(b"www-authenticate", challenge.encode())])
            except VerifierUnavailable as exc:
                return Refusal(ServiceUnavailable(f"tokens cannot be verified right now: {exc}"))
        principal = found.principal
        decision = await security.limiter.hit(found.key, found.policy)
        extra = limit_headers(decision)
        if not decision.allowed:
            return Refusal(TooManyRequests(f"client {principal.client_id} is over its rate limit"), extra)
        needed = self._scope_for(path, method)
        if needed is not None and not principal.allows(needed):
            challenge = f'{REALM}, error="insufficient_scope", scope="{needed}"'
            error = Forbidden(f"this operation needs the scope {needed}", code="INSUFFICIENT_SCOPE")
            return Refusal(error, [*extra, (b"www-authenticate", challenge.encode())])
        return principal, extra

    def _scope_for(self, path: str, method: str) -> str | None:
        """The scope an operation outside the TMF APIs needs (the TMF router checks its own,
        ``require``, once it has resolved the API: the path is parsed once)."""
        if path.startswith("/admin/") or path == "/admin":
            return ADMIN
        if path.startswith(CALLBACK):
            return ACTIVATION
        return None

    async def _per_address(
        self, scope: Scope, error: TmfError | None
    ) -> tuple[Principal | None, list[tuple[bytes, bytes]]] | Refusal:
        """Throttle by source address; then refuse with ``error`` or let the request in anonymously."""
        security = self.security
        assert security is not None
        client = scope.get("client")
        address = client[0] if client else "unknown"
        policy: Policy = security.anon_policy
        decision = await security.limiter.hit(f"address:{address}", policy)
        extra = limit_headers(decision)
        if not decision.allowed:
            return Refusal(TooManyRequests(f"too many requests from {address}"), extra)
        if error is not None:
            return Refusal(error, extra)
        return None, extra


def _quoted(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and c not in '"\\')


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return sending


async def _refuse(refusal: Refusal, send: Send) -> None:
    body = orjson.dumps(refusal.error.to_error())
    headers = [
        (b"content-type", b"application/json;charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *refusal.headers,
    ]
    await send({"type": "http.response.start", "status": refusal.error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
