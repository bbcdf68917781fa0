"""Tokens of an external identity provider (``TMFSTACK_OAUTH_ISSUER``): tmfstack as a resource server.

At the first token the provider's discovery document is read
(``<issuer>/.well-known/openid-configuration``, else ``…/oauth-authorization-server``); its
``issuer`` must be the configured one and its ``jwks_uri`` gives the keys. The key set is
cached for ``JWKS_TTL`` seconds and fetched again when a token names a ``kid`` it does not
hold (a rotation at the provider), at most once per ``MISS_INTERVAL`` so that forged kids
cannot make tmfstack hammer the provider.

Algorithms are pinned per key: a token is checked only with the algorithm its key declares
(or the one its key type implies: RSA → RS256, EC P-256/384/521 → ES256/384/512, Ed25519 →
EdDSA). ``none`` and the HMAC algorithms are never accepted, so a public key can never be
used as an HMAC secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from .principal import Principal
from .tokens import InvalidToken, VerifierUnavailable, decode, header_of, principal_of

log = logging.getLogger("tmfstack.auth")
JWKS_TTL = 300.0
MISS_INTERVAL = 10.0
_MAX_DOCUMENT = 1 << 20
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "Ed25519": "EdDSA"}


def key_algorithm(jwk: dict[str, Any]) -> str | None:
    """The one algorithm a JWK may verify, or None when it is not an asymmetric signing key."""
    if jwk.get("use") not in (None, "sig"):
        return None
    declared = jwk.get("alg")
    if declared is not None:
        return declared if declared in ASYMMETRIC else None
    if jwk.get("kty") == "RSA":
        return "RS256"
    if jwk.get("kty") in ("EC", "OKP"):
        return _BY_CURVE.get(str(jwk.get("crv")))
    return None


class ExternalVerifier:
    def __init__(self, issuer: str, *, audience: str, leeway: float, party_claim: str, timeout: float = 5.0) -> None:
        self.issuer, self.audience, self.leeway, self.party_claim = issuer.rstrip("/"), audience, leeway, party_claim
        self.timeout = timeout
        self._keys: dict[str, tuple[Any, str]] = {}  # kid -> (key object, algorithm)
        self._fetched = 0.0
        self._jwks_uri: str | None = None
        #: the issuer exactly as the provider spells it (tokens carry this spelling)
        self._issuer = self.issuer
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        header = header_of(token)
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ASYMMETRIC:
            raise InvalidToken(f"algorithm {alg!r} is not accepted")
        if str(header.get("typ", "at+jwt")).lower() not in ("at+jwt", "application/at+jwt", "jwt"):
            raise InvalidToken("not an access token")
        found = await self._key(str(kid) if kid is not None else None)
        if found is None:
            raise InvalidToken("the token's signing key is not published by the issuer")
        key, key_alg = found
        if alg != key_alg:
            raise InvalidToken(f"the key {kid} signs with {key_alg}, not {alg}")
        claims = decode(token, key, key_alg, issuer=self._issuer, audience=self.audience, leeway=self.leeway)
        return principal_of(claims, self.party_claim)

    def _lookup(self, kid: str | None) -> tuple[Any, str] | None:
        if kid is None:  # a provider with one key may leave kid out
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _key(self, kid: str | None) -> tuple[Any, str] | None:
        age = time.monotonic() - self._fetched
        if age > JWKS_TTL or (self._lookup(kid) is None and age > MISS_INTERVAL):
            seen = self._fetched
            async with self._lock:
                if self._fetched == seen:  # nobody refreshed while this request waited
                    await self._refresh()
        if not self._keys:
            raise VerifierUnavailable(f"the keys of {self.issuer} are not available")
        return self._lookup(kid)

    async def _refresh(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False) as client:
                if self._jwks_uri is None:
                    meta = await self._document(client, "/.well-known/openid-configuration")
                    if meta is None:
                        meta = await self._document(client, "/.well-known/oauth-authorization-server")
                    if meta is None or not isinstance(meta.get("jwks_uri"), str):
                        raise VerifierUnavailable(f"{self.issuer} publishes no discovery document with a jwks_uri")
                    if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                        raise VerifierUnavailable(f"{self.issuer}'s discovery names issuer {meta.get('issuer')!r}")
                    self._issuer, self._jwks_uri = str(meta["issuer"]), meta["jwks_uri"]
                response = await client.get(self._jwks_uri)
                response.raise_for_status()
                if len(response.content) > _MAX_DOCUMENT:
                    raise VerifierUnavailable("the issuer's key set is too large")
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            self._fetched = time.monotonic()  # do not retry on every request while it is down
            log.warning("cannot fetch the keys of %s: %s", self.issuer, exc)
            if not self._keys:
                raise VerifierUnavailable(f"the keys of {self.issuer} cannot be fetched") from None
            return
        keys: dict[str, tuple[Any, str]] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            alg = key_algorithm(jwk) if isinstance(jwk, dict) else None
            if alg is None:
                continue
            try:
                keys[str(jwk.get("kid", ""))] = (jwt.PyJWK(jwk, algorithm=alg).key, alg)
            except jwt.PyJWTError as exc:
                log.warning("ignoring a key of %s: %s", self.issuer, exc)
        self._keys, self._fetched = keys, time.monotonic()

    async def _document(self, client: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
        response = await client.get(self.issuer + path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        value = response.json()
        return value if isinstance(value, dict) else None
