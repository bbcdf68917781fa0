"""The embedded authorization server's endpoints: the token endpoint and its metadata.

``POST /oauth2/token`` implements the client-credentials grant (RFC 6749 §4.4): the client
authenticates with HTTP Basic (``client_secret_basic``, RFC 6749 §2.3.1: id and secret
form-urlencoded, then base64) or with ``client_id``/``client_secret`` in the body
(``client_secret_post``), never both; ``scope`` asks for a subset of the client's scopes
(all of them when absent). Errors are RFC 6749 §5.2 bodies::

    curl -u demo-operator:$SECRET -d grant_type=client_credentials -d scope=tmf620:read \
         http://127.0.0.1:8080/oauth2/token
    {"access_token": "eyJ…", "token_type": "Bearer", "expires_in": 3600, "scope": "tmf620:read"}

``/.well-known/jwks.json`` publishes the verification keys and
``/.well-known/oauth-authorization-server`` the server's metadata (RFC 8414).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.security import Security
from ..engine.patch import media_type

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_FORM = 8 << 10


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, basic: bool = False) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.basic = error, description, status, basic


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, {**_NO_STORE, **(headers or {})}, media_type="application/json")


def routes(security: Security | None) -> list[Route]:
    """The routes of the embedded authorization server (none with an external provider or auth off)."""
    if security is None or security.external:
        return []
    return [
        Route("/oauth2/token", _token(security), methods=["POST"]),
        Route("/.well-known/jwks.json", _jwks(security), methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", _metadata(security), methods=["GET"]),
    ]


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """(client id, secret, sent with Basic) from the request; OAuthError when missing or doubled."""
    header = request.headers.get("authorization")
    in_body = "client_secret" in form
    if header is not None:
        kind, _, value = header.partition(" ")
        if kind.lower() != "basic":
            raise OAuthError("invalid_client", "client authentication is Basic or client_secret_post", 401, True)
        if in_body:
            raise OAuthError("invalid_request", "use one client authentication method, not Basic and the body both")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "the Basic credentials are not base64", 401, True) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "the Basic credentials are not id:secret", 401, True)
        return unquote_plus(client_id), unquote_plus(secret), True
    if not in_body or "client_id" not in form:
        raise OAuthError("invalid_client", "client authentication is required", 401, True)
    return form["client_id"], form["client_secret"], False


async def _form(request: Request) -> dict[str, str]:
    if media_type(request.headers.get("content-type")) != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise OAuthError("invalid_request", f"the body is larger than {_MAX_FORM} bytes")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body is not a valid form") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise OAuthError("invalid_request", f"parameter {key} is repeated")  # RFC 6749 §3.2
        form[key] = value
    return form


def _token(security: Security) -> Callable[[Request], Awaitable[Response]]:
    assert security.issuer is not None
    issuer = security.issuer

    async def endpoint(request: Request) -> Response:
        try:
            form = await _form(request)
            client_id, secret, basic = _credentials(request, form)
            grant = form.get("grant_type")
            if grant is None:
                raise OAuthError("invalid_request", "grant_type is required")
            client = await security.clients.authenticate(client_id, secret)
            if client is None:
                raise OAuthError("invalid_client", "unknown client, wrong secret or revoked client", 401, basic)
            if grant != "client_credentials":
                raise OAuthError("unsupported_grant_type", "this server issues tokens for client_credentials only")
            allowed = frozenset(client.scopes.split())
            asked = frozenset(form["scope"].split()) if form.get("scope") else allowed
            if not asked or not asked <= allowed:
                extra = ", ".join(sorted(asked - allowed)) or "none"
                raise OAuthError("invalid_scope", f"scopes not granted to this client: {extra}")
            token, ttl = await issuer.issue(client, asked)
        except OAuthError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="tmfstack"'} if exc.status == 401 and exc.basic else None
            return _json({"error": exc.error, "error_description": exc.description}, exc.status, headers)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": " ".join(sorted(asked))}
        return _json(body)

    return endpoint


def _jwks(security: Security) -> Callable[[Request], Awaitable[Response]]:
    assert security.keys is not None
    keys = security.keys

    async def endpoint(request: Request) -> Response:
        await keys.signer()  # reloads the ring when stale: a rotation elsewhere shows here
        return Response(
            orjson.dumps(keys.jwks()), headers={"Cache-Control": "max-age=60"}, media_type="application/json"
        )

    return endpoint


def _metadata(security: Security) -> Callable[[Request], Awaitable[Response]]:
    base = security.issuer_url
    body = orjson.dumps(
        {
            "issuer": base,
            "token_endpoint": f"{base}/oauth2/token",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(security.table.operator),
            "response_types_supported": [],
        }
    )

    async def endpoint(request: Request) -> Response:
        return Response(body, headers={"Cache-Control": "max-age=300"}, media_type="application/json")

    return endpoint
