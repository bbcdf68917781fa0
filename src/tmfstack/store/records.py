"""The security edge's records in the store: OAuth clients and token signing keys.

They live in the database, not in files, so that every replica serving one database
authenticates the same clients and verifies the same tokens, and a key rotated on one
replica is published by all of them.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientRow:
    id: str
    name: str
    secret_hash: str  #: ``sha256$<salt>$<hex>``; the secret itself is shown once and never stored
    scopes: str  #: space-separated
    party: str | None  #: the partner the client acts for; None: an operator client
    rate: float | None  #: requests per second; None: the server's default
    burst: int | None
    status: str  #: "active" or "revoked"
    created: float
    updated: float


@dataclass(frozen=True)
class KeyRow:
    kid: str
    alg: str
    private_key: bytes  #: PKCS#8 PEM, encrypted when a passphrase is configured
    public_jwk: str  #: JSON
    created: float
    retired: float | None  #: when it stopped signing; published until its last token expires


class SecurityRecords(abc.ABC):
    @abc.abstractmethod
    async def get_client(self, id: str) -> ClientRow | None: ...

    @abc.abstractmethod
    async def list_clients(self) -> list[ClientRow]: ...

    @abc.abstractmethod
    async def insert_client(self, row: ClientRow) -> None:
        """Raise Conflict when the id exists."""

    @abc.abstractmethod
    async def update_client(self, row: ClientRow) -> None: ...

    @abc.abstractmethod
    async def signing_keys(self) -> list[KeyRow]:
        """Every stored key, oldest first."""

    @abc.abstractmethod
    async def insert_signing_key(self, row: KeyRow, retire_others_at: float | None) -> None:
        """Store a new key; when ``retire_others_at`` is given, keys still signing stop at that time."""

    @abc.abstractmethod
    async def delete_signing_keys(self, kids: list[str]) -> None: ...

    @abc.abstractmethod
    async def meta_setdefault(self, key: str, value: str) -> str:
        """The stored value of ``key``, storing ``value`` first when there is none (atomically)."""
