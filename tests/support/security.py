"""Helpers for tests with authentication on (a helper module, not a test module).

secured = Secured(client)                       # a TestClient of an app with auth on
operator = secured.login("ops", ["operator"])   # registers the client, gets a token at /oauth2/token
r = operator.get("/tmf-api/productOrderingManagement/v4/productOrder")
partner = secured.login("acme", ["partner"], party="org-acme")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient

from tmfstack.auth.security import Security

TOKEN = "/oauth2/token"


@dataclass
class Caller:
    """A registered client with a token: HTTP verbs carry its bearer token."""

    secured: Secured
    id: str
    secret: str
    token: str

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs["headers"] = self.headers(kwargs.get("headers"))
        return self.secured.client.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


class Secured:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        security = client.app.state.security  # type: ignore[attr-defined]
        assert isinstance(security, Security), "the app was built with auth off"
        self.security: Security = security

    def register(
        self, id: str, scopes: list[str], party: str | None = None, rate: float | None = None, burst: int | None = None
    ) -> str:
        """Register a client in the app's store; returns its secret."""
        _, secret = self.client.portal.call(self.security.clients.add, id, scopes, party, rate, burst)  # type: ignore[union-attr]
        return str(secret)

    def token_response(self, id: str, secret: str, scope: str | None = None, basic: bool = True) -> httpx.Response:
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        if basic:
            return self.client.post(TOKEN, data=data, auth=(id, secret))
        return self.client.post(TOKEN, data={**data, "client_id": id, "client_secret": secret})

    def token(self, id: str, secret: str, scope: str | None = None) -> str:
        r = self.token_response(id, secret, scope)
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def login(
        self,
        id: str,
        scopes: list[str],
        party: str | None = None,
        rate: float | None = None,
        burst: int | None = None,
        scope: str | None = None,
    ) -> Caller:
        secret = self.register(id, scopes, party, rate, burst)
        return Caller(self, id, secret, self.token(id, secret, scope))

    def call(self, fn: Any, *args: Any) -> Any:
        """Run an async function of the app on its event loop."""
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    # -- tokens the server must refuse --------------------------------------------------------

    def forged(self, token: str, **changes: Any) -> str:
        """``token`` re-signed with this server's own key after changing claims (None removes one)."""
        keys = self.security.keys
        assert keys is not None
        key = self.call(keys.signer)
        claims = jwt.decode(token, options={"verify_signature": False})
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, key.private, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"})

    def bad_tokens(self, good: str) -> dict[str, str]:
        """One token per way a token can be wrong, each built from the valid ``good``."""
        keys = self.security.keys
        assert keys is not None
        key = self.call(keys.signer)
        header, payload, signature = good.split(".")
        claims = jwt.decode(good, options={"verify_signature": False})
        stranger = ec.generate_private_key(ec.SECP256R1())
        public_pem = key.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        unsigned = _b64e(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        tampered = json.loads(_b64d(payload))
        tampered["scope"] = tampered["scope"] + " admin"
        now = int(time.time())
        return {
            "garbage": "not-a-jwt",
            "tampered payload": f"{header}.{_b64e(json.dumps(tampered).encode())}.{signature}",
            "bad signature": f"{header}.{payload}.{signature[:-4]}AAAA",
            "expired": self.forged(good, exp=now - 3600, iat=now - 7200, nbf=now - 7200),
            "not yet valid": self.forged(good, nbf=now + 3600, iat=now),
            "other audience": self.forged(good, aud="someone-else"),
            "other issuer": self.forged(good, iss="https://evil.example"),
            "no expiry": self.forged(good, exp=None),
            "unknown key": jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "x", "typ": "at+jwt"}),
            "alg none": f"{unsigned}.{payload}.",
            "HS256 with the public key": _hs256(claims, public_pem, key.kid),
            "not an access token": jwt.encode(claims, key.private, "ES256", headers={"kid": key.kid, "typ": "JWT"}),
        }


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """The classic key-confusion attack: HMAC-signed with the published public key as the secret."""
    header = _b64e(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    payload = _b64e(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64e(signature)}"
