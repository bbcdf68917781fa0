"""Webhook signatures: each hub gets a secret at registration, every delivery carries
``X-Tmf-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>``.

The secret is shown once, in the answer to ``POST /hub``; the store keeps it sealed: AES-GCM
under a key derived from ``TMFSTACK_KEY_PASSPHRASE`` when one is set (``v1:`` prefix), else
as given (``plain:``), never readable through the API either way. A listener verifies:

    t, v1 = (dict(p.split("=", 1) for p in header.split(","))[k] for k in ("t", "v1"))
    ok = hmac.compare_digest(v1, hmac.new(secret.encode(), f"{t}.".encode() + body, "sha256").hexdigest())
    fresh = abs(time.time() - int(t)) < 300          # refuse replays of old deliveries
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE = "X-Tmf-Signature"
_SALT = b"tmfstack hub secret v1"


def new_secret() -> str:
    """32 random bytes, URL-safe text: the HMAC key is this text's ASCII bytes."""
    return "whsec_" + secrets.token_urlsafe(32)


@lru_cache(maxsize=4)
def _key(passphrase: str) -> bytes:
    # derived once per process: scrypt makes a guessed passphrase expensive to test
    return hashlib.scrypt(passphrase.encode(), salt=_SALT, n=1 << 14, r=8, p=1, dklen=32)


def seal(secret: str, passphrase: str) -> str:
    if not passphrase:
        return "plain:" + secret
    nonce = os.urandom(12)
    sealed = AESGCM(_key(passphrase)).encrypt(nonce, secret.encode(), _SALT)
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, passphrase: str) -> str | None:
    """The secret, or None when it cannot be read (another passphrase, a corrupt value)."""
    kind, _, value = stored.partition(":")
    if kind == "plain":
        return value
    if kind != "v1" or not passphrase:
        return None
    try:
        raw = base64.urlsafe_b64decode(value)
        return AESGCM(_key(passphrase)).decrypt(raw[:12], raw[12:], _SALT).decode()
    except Exception:  # InvalidTag, bad base64: a wrong passphrase is the usual cause
        return None


def signature(secret: str, body: bytes, at: int | None = None) -> str:
    """The ``X-Tmf-Signature`` value of ``body`` at unix time ``at`` (now)."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
