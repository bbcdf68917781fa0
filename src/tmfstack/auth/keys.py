"""Token signing keys: ES256 key pairs kept in the store, shared by every replica.

The newest key that is not retired signs; every key still able to verify a token that has
not expired is published at ``/.well-known/jwks.json``. ``rotate`` adds a key and retires
the others at once: tokens they signed stay valid until they expire (``token_ttl`` plus the
leeway), after which the old keys are dropped. A replica reloads the ring when it meets a
``kid`` it does not know (at most once a second) and otherwise every ``REFRESH`` seconds,
so a rotation on one replica reaches all of them without a restart.

Private keys are PKCS#8 PEM in the database, encrypted with ``TMFSTACK_KEY_PASSPHRASE`` when
it is set (recommended wherever the database is backed up or shared).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from ..store.records import KeyRow, SecurityRecords

ALG = "ES256"
REFRESH = 60.0
_MISS_RELOAD = 1.0


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey
    public: ec.EllipticCurvePublicKey
    jwk: dict[str, Any]
    created: float
    retired: float | None


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): a kid derived from the key itself."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeyRing:
    def __init__(self, store: SecurityRecords, *, passphrase: str = "", token_ttl: float = 3600, leeway: float = 30):
        self.store, self.passphrase = store, passphrase.encode()
        #: how long a retired key keeps verifying: the longest a token it signed can live
        self.grace = token_ttl + leeway
        self._keys: dict[str, SigningKey] = {}
        self._loaded = 0.0

    async def ensure(self) -> None:
        """Load the ring; make the first key when the store has none that signs."""
        await self._load()
        if self._active() is None:
            await self._add(retire_others=False)

    async def rotate(self) -> str:
        """A new signing key; the others stop signing now and are dropped once their tokens expired."""
        await self._load()
        kid = await self._add(retire_others=True)
        now = time.time()
        await self.store.delete_signing_keys([k.kid for k in self._keys.values() if self._expired(k, now)])
        await self._load()
        return kid

    async def signer(self) -> SigningKey:
        if time.monotonic() - self._loaded > REFRESH:
            await self._load()
        found = self._active()
        if found is None:
            await self.ensure()
            found = self._active()
        assert found is not None
        return found

    async def public(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The key that verifies ``kid``'s tokens, if it is still published."""
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._loaded > _MISS_RELOAD:
            await self._load()  # rotated on another replica
            key = self._keys.get(kid)
        if key is None or self._expired(key, time.time()):
            return None
        return key.public

    def jwks(self) -> dict[str, Any]:
        now = time.time()
        return {"keys": [k.jwk for k in self._keys.values() if not self._expired(k, now)]}

    def ring(self) -> list[SigningKey]:
        return sorted(self._keys.values(), key=lambda k: k.created)

    # -- internals ----------------------------------------------------------------------

    def _active(self) -> SigningKey | None:
        signing = [k for k in self._keys.values() if k.retired is None or k.retired > time.time()]
        return max(signing, key=lambda k: (k.created, k.kid)) if signing else None

    def _expired(self, key: SigningKey, now: float) -> bool:
        return key.retired is not None and key.retired + self.grace < now

    async def _load(self) -> None:
        rows = await self.store.signing_keys()
        self._keys = {row.kid: self._open(row) for row in rows}
        self._loaded = time.monotonic()

    def _open(self, row: KeyRow) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(row.private_key, password=self.passphrase or None)
        except (TypeError, ValueError) as exc:
            raise RuntimeError(
                f"signing key {row.kid} cannot be read ({exc}); is TMFSTACK_KEY_PASSPHRASE the one it was stored with?"
            ) from None
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        return SigningKey(row.kid, private, private.public_key(), json.loads(row.public_jwk), row.created, row.retired)

    async def _add(self, retire_others: bool) -> str:
        private = ec.generate_private_key(ec.SECP256R1())
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        kid = thumbprint(jwk)
        jwk.update({"kid": kid, "alg": ALG, "use": "sig"})
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self.passphrase) if self.passphrase else serialization.NoEncryption()
        )
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        now = time.time()
        await self.store.insert_signing_key(
            KeyRow(kid, ALG, pem, json.dumps(jwk), now, None), now if retire_others else None
        )
        await self._load()
        return kid
