"""Signed callback URLs: how an activation platform proves that its answer is for our request.

The HTTP adapter sends each request with ``X-Callback-Url: <base>/activation/callback/<monitor>?sig=<s>``,
where ``s`` is an HMAC-SHA256 of the monitor id under a random key kept in the store (shared by the
replicas). Knowing the URL lets a platform answer that one request and nothing else, it needs no
client registration of its own, and an answer for a finished request changes nothing. Platforms
that prefer OAuth may instead call with a bearer token holding the ``activation`` scope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...engine.core import Engine

META_KEY = "activation-callback-key"


def _sign(key: bytes, monitor_id: str) -> str:
    digest = hmac.new(key, monitor_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def callback_url(engine: Engine, monitor_id: str) -> str:
    return (
        f"{engine.public_url}/activation/callback/{monitor_id}?sig={_sign(await engine.secret(META_KEY), monitor_id)}"
    )


async def signed(engine: Engine, monitor_id: str, signature: str | None) -> bool:
    """Whether ``signature`` is the one this server put in the monitor's callback URL."""
    if not signature:
        return False
    return hmac.compare_digest(_sign(await engine.secret(META_KEY), monitor_id), signature)
