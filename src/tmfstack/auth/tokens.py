"""Access tokens: the embedded issuer (client credentials, RFC 6749 §4.4) and their verification.

Tokens follow the JWT profile for OAuth 2.0 access tokens (RFC 9068): header ``typ: at+jwt``
and the ``kid`` of the ES256 key that signed it; claims ``iss`` (this server), ``sub`` and
``client_id`` (the client), ``aud`` (``TMFSTACK_OAUTH_AUDIENCE``), ``iat``, ``exp``, ``jti`` (128 random bits),
``scope`` (space-separated) and, for a partner's client, its party under the configured claim
(``party_id``)::

    token, ttl = await issuer.issue(client_row, frozenset({"tmf622:read"}))
    principal = await verifier.verify(token)   # Principal("acme", {"tmf622:read"}, "org-acme", exp)

Verifying an ES256 signature costs ~100 µs, about as much as serving a GET; ``Security``
remembers each verified token, so a client re-using its token pays a dict lookup.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Protocol

import jwt

from ..store.records import ClientRow
from .keys import ALG, KeyRing
from .principal import Principal

AT_JWT = ("at+jwt", "application/at+jwt")


class InvalidToken(Exception):
    """The token is not acceptable; the message says why (sent as ``error_description``)."""


class VerifierUnavailable(Exception):
    """The token cannot be checked now (the identity provider's keys are out of reach)."""


class Verifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """``scope`` (space-separated, RFC 9068) or ``scp`` (an array, as some providers write it)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    return frozenset()


def principal_of(claims: dict[str, Any], party_claim: str) -> Principal:
    client = claims.get("client_id") or claims.get("azp") or claims.get("sub")
    if not isinstance(client, str) or not client:
        raise InvalidToken("the token names no client (client_id, azp or sub)")
    party = claims.get(party_claim)
    return Principal(
        client, scopes_of(claims), party if isinstance(party, str) and party else None, float(claims["exp"])
    )


def decode(token: str, key: Any, algorithm: str, *, issuer: str, audience: str, leeway: float) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise InvalidToken("the token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken(f"the token is not for this audience ({audience})") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken(f"the token was not issued by {issuer}") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("the token's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from None
    return claims


def header_of(token: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("the token is not a JWT") from None
    return header


class Issuer:
    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl: int, party_claim: str) -> None:
        self.keys, self.issuer, self.audience, self.ttl, self.party_claim = keys, issuer, audience, ttl, party_claim

    async def issue(self, client: ClientRow, scopes: frozenset[str]) -> tuple[str, int]:
        key = await self.keys.signer()
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client.id,
            "client_id": client.id,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(sorted(scopes)),
        }
        if client.party:
            claims[self.party_claim] = client.party
        token = jwt.encode(claims, key.private, algorithm=ALG, headers={"kid": key.kid, "typ": "at+jwt"})
        return token, self.ttl


class EmbeddedVerifier:
    """Tokens this server (or another replica on the same store) issued."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, leeway: float, party_claim: str) -> None:
        self.keys, self.issuer, self.audience, self.leeway, self.party_claim = (
            keys,
            issuer,
            audience,
            leeway,
            party_claim,
        )

    async def verify(self, token: str) -> Principal:
        header = header_of(token)
        if header.get("alg") != ALG:
            raise InvalidToken(f"tokens are signed with {ALG}, not {header.get('alg')!r}")
        if str(header.get("typ", "")).lower() not in AT_JWT:
            raise InvalidToken("not an access token (typ must be at+jwt)")
        key = await self.keys.public(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("the token's signing key is unknown")
        claims = decode(token, key, ALG, issuer=self.issuer, audience=self.audience, leeway=self.leeway)
        return principal_of(claims, self.party_claim)
