"""The guard in front of the operator endpoints (``/admin/*``), before the token is even read.

A browser can be made to send requests to a server it can reach (the operator's laptop, a
host on the internal network): by DNS rebinding (a hostile name that now resolves to the
server: its ``Host`` is the hostile name) or by a cross-site form or fetch (``Origin`` names the
other site, the body is a form or text). So, on ``/admin/*``:

* ``Host`` must be one of the allowed hosts (``TMFSTACK_ALLOWED_HOSTS``; by default where the
  server listens, its public URL's host and the localhost names), else 400 ``INVALID_HOST``;
* a request that changes something (not GET/HEAD) is refused with 403 ``CROSS_ORIGIN`` when its
  ``Origin`` names another host or ``Sec-Fetch-Site`` says ``cross-site``, and with 415 when it
  carries a body that is not JSON (a form, text: what a browser sends cross-site unasked).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from ..errors import BadRequest, Forbidden, TmfError, UnsupportedMediaType
from ..net.addresses import host_key
from .responses import error

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _host_name(value: str) -> str:
    """The host of a ``Host`` header value, without its port."""
    value = value.strip()
    if value.startswith("["):
        return host_key(value[1 : value.find("]")] if "]" in value else value)
    name, _, port = value.rpartition(":")
    return host_key(name if name and port.isdigit() else value)


def _json(kind: str) -> bool:
    kind = kind.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class OperatorGuard:
    def __init__(self, hosts: frozenset[str]) -> None:
        self.hosts = hosts

    def refusal(self, scope: Scope) -> TmfError | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not host or _host_name(host) not in self.hosts:
            return BadRequest("the Host header does not name this server", code="INVALID_HOST")
        if scope["method"] in _SAFE:
            return None
        origin = headers.get("origin")
        if origin is not None and host_key(urlsplit(origin).hostname or "") not in self.hosts:
            return Forbidden("operator requests from another site are refused", code="CROSS_ORIGIN")
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return Forbidden("operator requests from another site are refused", code="CROSS_ORIGIN")
        kind = headers.get("content-type")
        has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
        if (kind is not None or has_body) and not _json(kind or ""):
            return UnsupportedMediaType(f"operator endpoints accept application/json bodies only, not {kind!r}")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the refusal and return True, or return False to let the request go on."""
        refused = self.refusal(scope)
        if refused is None:
            return False
        await error(refused)(scope, receive, send)
        return True
