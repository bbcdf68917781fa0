"""The security edge assembled from settings: clients, keys, issuer, verifier, rate limits.

One ``Security`` per process. In embedded mode (the default) this server is its own OAuth 2.0
authorization server: clients and signing keys live in the store. With
``TMFSTACK_OAUTH_ISSUER`` it is a resource server of that provider only: no token endpoint,
no keys of its own; client records, where an operator registers one under the provider's
client id, still give per-client rate limits and revocation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ..settings import Settings, parse_rate
from ..store.records import ClientRow, SecurityRecords
from .clients import CACHE_TTL, ClientRegistry
from .external import ExternalVerifier
from .keys import KeyRing
from .principal import Principal
from .ratelimit import Fields, Limiter, MemoryLimiter, Policy, open_limiter, policy_fields
from .scopes import ScopeTable
from .tokens import EmbeddedVerifier, InvalidToken, Issuer, Verifier

log = logging.getLogger("tmfstack.auth")


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    client: ClientRow | None  #: the registered client record, when there is one
    policy: Policy  #: the client's rate limit
    fields: Fields  #: its RateLimit header parts, made once
    key: str  #: its rate-limit bucket
    recheck: float  #: epoch seconds until which this answer may be reused for the same token
    revision: int  #: the registry's revocation count it was made at


class Security:
    def __init__(self, settings: Settings, store: SecurityRecords, table: ScopeTable, issuer_url: str) -> None:
        self.settings, self.table = settings, table
        self.clients = ClientRegistry(store, table)
        self.external = bool(settings.oauth_issuer)
        self.issuer_url = settings.oauth_issuer.rstrip("/") if self.external else issuer_url.rstrip("/")
        self.keys: KeyRing | None = None
        self.issuer: Issuer | None = None
        inner: Verifier
        if self.external:
            inner = ExternalVerifier(
                self.issuer_url,
                audience=settings.oauth_audience,
                leeway=settings.oauth_leeway,
                party_claim=settings.oauth_party_claim,
            )
        else:
            self.keys = KeyRing(
                store, passphrase=settings.key_passphrase, token_ttl=settings.token_ttl, leeway=settings.oauth_leeway
            )
            self.issuer = Issuer(
                self.keys,
                issuer=self.issuer_url,
                audience=settings.oauth_audience,
                ttl=settings.token_ttl,
                party_claim=settings.oauth_party_claim,
            )
            inner = EmbeddedVerifier(
                self.keys,
                issuer=self.issuer_url,
                audience=settings.oauth_audience,
                leeway=settings.oauth_leeway,
                party_claim=settings.oauth_party_claim,
            )
        self.verifier = inner
        #: verified tokens until they expire or their client record is due a re-read: checking an
        #: ES256 signature costs ~100 µs, as much as serving a GET; a dict lookup costs ~0.1 µs
        self._admitted: dict[bytes, Authenticated] = {}
        self.client_policy = Policy(parse_rate(settings.rate), settings.burst, "client")
        self.anon_policy = Policy(parse_rate(settings.anon_rate), settings.anon_burst, "address")
        self.limiter: Limiter = open_limiter(settings.redis_url)
        #: buckets in this process: the edge may take them without awaiting
        #: the in-process limiter, when limits are not shared (the gate's hot path uses it without awaiting)
        self.memory_limiter = self.limiter if isinstance(self.limiter, MemoryLimiter) else None

    async def open(self) -> None:
        if self.keys is not None:
            await self.keys.ensure()

    async def close(self) -> None:
        await self.limiter.close()

    def remembered(self, token: bytes) -> Authenticated | None:
        """``token``'s principal when it was verified lately (the hot path: a dict lookup), else None.
        Tokens are kept as the bytes of the header: nothing is decoded on the hot path."""
        found = self._admitted.get(token)
        if found is not None and found.recheck > time.time() and found.revision == self.clients.revision:
            return found
        return None

    async def authenticate(self, token: bytes) -> Authenticated:
        """The principal of a valid token whose client is not revoked (InvalidToken otherwise).

        A token seen before is answered from memory until it expires, at most ``CACHE_TTL``
        seconds (then its client record is read again: a revocation on another replica shows
        within that time) or until a client is revoked in this process. Only valid tokens are
        remembered; a forged one pays the whole check, and its sender's address the rate limit.
        """
        found = self.remembered(token)
        if found is not None:
            return found
        now = time.time()
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken("the token is not a JWT") from None
        principal = await self.verifier.verify(text)
        client = await self.clients.store.get_client(principal.client_id)
        if client is not None and client.status != "active":
            raise InvalidToken("the client has been revoked")
        if client is None and not self.external:
            raise InvalidToken("the token's client is not registered")
        policy = self.policy(client)
        found = Authenticated(
            principal,
            client,
            policy,
            policy_fields(policy),
            f"client:{principal.client_id}",
            min(principal.expires, now + CACHE_TTL),
            self.clients.revision,
        )
        if len(self._admitted) >= 50_000:
            self._admitted.clear()  # bounded; the next requests re-verify
        self._admitted[token] = found
        return found

    def policy(self, client: ClientRow | None) -> Policy:
        if client is None or (client.rate is None and client.burst is None):
            return self.client_policy
        rate = client.rate if client.rate is not None else self.client_policy.rate
        return Policy(rate, client.burst or self.client_policy.burst, "client")
