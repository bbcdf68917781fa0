"""OAuth clients: registered by an operator (``tmfstack client add``), authenticated at ``/oauth2/token``.

A client's secret is 32 random bytes shown once; only a salted SHA-256 of it is stored. A
memory-hard hash would add nothing for a secret of that entropy (nobody can guess 2^256
values) and would cap token issuance at a few per second; passwords of people are another
matter (the console's users). Revoking a client stops its tokens on every replica within
``CACHE_TTL`` seconds, the longest a replica trusts a token it verified before without reading
its client's record again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import replace

from ..errors import BadRequest, NotFound
from ..store.records import ClientRow, SecurityRecords
from .scopes import ADMIN, ScopeTable

CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CACHE_TTL = 10.0
SECRET_PREFIX = "tmfs_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_hex(8)
    return f"sha256${salt}${hashlib.sha256((salt + secret).encode()).hexdigest()}"


def secret_matches(secret: str, stored: str) -> bool:
    scheme, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != "sha256" or not digest:
        return False
    return hmac.compare_digest(hashlib.sha256((salt + secret).encode()).hexdigest(), digest)


class ClientRegistry:
    def __init__(self, store: SecurityRecords, scopes: ScopeTable) -> None:
        self.store, self.table = store, scopes
        #: bumped by every revocation here, so that tokens remembered in this process are checked again
        self.revision = 0

    async def add(
        self,
        id: str,
        scopes: list[str],
        party: str | None = None,
        rate: float | None = None,
        burst: int | None = None,
        name: str | None = None,
    ) -> tuple[ClientRow, str]:
        """Register a client; returns it and its secret (shown once)."""
        if not CLIENT_ID.match(id):
            raise BadRequest(f"a client id is 1-64 letters, digits, '.', '_' or '-', got {id!r}", code="INVALID_CLIENT")
        granted = self.table.expand(scopes)
        if not granted:
            raise BadRequest("a client needs at least one scope", code="INVALID_SCOPE")
        if party is not None and ADMIN in granted:
            raise BadRequest("a partner client cannot have the admin scope", code="INVALID_SCOPE")
        if (rate is not None and rate <= 0) or (burst is not None and burst < 1):
            raise BadRequest("rate must be positive and burst at least 1", code="INVALID_LIMIT")
        secret, now = new_secret(), time.time()
        row = ClientRow(
            id, name or id, hash_secret(secret), " ".join(sorted(granted)), party, rate, burst, "active", now, now
        )
        await self.store.insert_client(row)
        return row, secret

    async def require(self, id: str) -> ClientRow:
        row = await self.store.get_client(id)
        if row is None:
            raise NotFound(f"no client {id!r}")
        return row

    async def rotate_secret(self, id: str) -> str:
        row, secret = await self.require(id), new_secret()
        await self.store.update_client(replace(row, secret_hash=hash_secret(secret), updated=time.time()))
        return secret

    async def revoke(self, id: str) -> ClientRow:
        row = replace(await self.require(id), status="revoked", updated=time.time())
        await self.store.update_client(row)
        self.revision += 1
        return row

    async def authenticate(self, id: str, secret: str) -> ClientRow | None:
        """The active client whose id and secret these are, else None (no hint which was wrong)."""
        row = await self.store.get_client(id) if CLIENT_ID.match(id) else None
        if row is None or row.status != "active":
            secret_matches(secret, hash_secret("x"))  # same work either way: no timing hint of existence
            return None
        return row if secret_matches(secret, row.secret_hash) else None
