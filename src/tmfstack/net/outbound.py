"""One guard for every outbound HTTP call (hub callbacks, http imports, the activation adapter).

The server calls URLs that clients choose, so a client could make it reach internal
addresses (SSRF): loopback, the private network, a cloud's metadata service. Every call
therefore goes through ``guarded_client``: its connection pool uses a network backend that
resolves the host itself, refuses the connection when any resolved address is forbidden by
the ``AddressPolicy``, and connects the socket to the address it checked (so a second DNS
answer cannot swap it: no rebinding). TLS is still verified against the host name. Each
redirect hop goes through the same backend. ``fetch`` adds a whole-call deadline and a cap
on the answer's size; ``check_destination`` refuses obviously bad URLs when they are stored.

    policy = AddressPolicy.parse(settings.allow_private_callbacks)   # "" = public addresses only
    async with guarded_client(policy, timeout=5.0) as client:
        answer = await fetch(client, "POST", url, content=body, limit=4096, deadline=10.0)
    answer.status, answer.headers, answer.body

The address rules themselves (``AddressPolicy``, ``check_destination``) live in addresses.py.

Errors: ``httpx.HTTPError`` for anything on the wire (``DestinationNotAllowed`` is an
``httpx.ConnectError``, ``DeadlineExceeded`` an ``httpx.TimeoutException``), ``TooLarge``
(a ``ValueError``) for an answer above the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from .addresses import METADATA, OWN, SCHEMES, AddressPolicy, check_destination, host_key, literal_ip

__all__ = [
    "METADATA",
    "AddressPolicy",
    "DeadlineExceeded",
    "DestinationNotAllowed",
    "Fetched",
    "GuardedBackend",
    "GuardedTransport",
    "TooLarge",
    "check_destination",
    "fetch",
    "guarded_client",
    "literal_ip",
    "read_capped",
]

#: seconds the addresses of the server's own names are kept, and one lookup of them may take
OWN_TTL, OWN_LOOKUP = 60.0, 2.0
#: a redirect's own body is read whole by httpx: keep it small
_REDIRECT_BODY_CAP = 64 << 10


class DestinationNotAllowed(httpx.ConnectError):
    """The address a call would reach is forbidden by the policy (no connection was made);
    ``why``: the kind of address ("loopback", "own address"…), text of ours only."""

    def __init__(self, message: str, why: str = "not allowed") -> None:
        super().__init__(message)
        self.why = why


class DeadlineExceeded(httpx.TimeoutException):
    """The whole call (connect, redirects, answer) took longer than its deadline."""


class TooLarge(ValueError):
    """An answer is larger than the caller accepts; the rest of it was not read."""


# -- the network backend: resolve, check, connect to the checked address ---------------------


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself and connects only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()
        self._own: tuple[float, frozenset[tuple[str, int | None]]] = (0.0, frozenset())

    async def _lookup(self, host: str, port: int, timeout: float | None) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def own_addresses(self) -> frozenset[tuple[str, int | None]]:
        """The addresses the server's own names resolve to (another name for the same address must
        not get past the own-endpoint rule), looked up again every ``OWN_TTL`` seconds."""
        at, known = self._own
        if time.monotonic() - at < OWN_TTL:
            return known
        found: set[tuple[str, int | None]] = set()
        for name, port in self.policy.own_names():
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                found.update((host_key(a), port) for a in await self._lookup(name, port or 80, OWN_LOOKUP))
        self._own = (time.monotonic(), frozenset(found))
        return self._own[1]

    async def resolve(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """Every address ``host`` resolves to, all of them allowed (else DestinationNotAllowed)."""
        if self.policy.is_own(host, port):
            raise DestinationNotAllowed("the destination is this server itself", OWN)
        addresses = await self._lookup(host, port, timeout)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        own = await self.own_addresses() if self.policy.own else frozenset()
        for address in addresses:
            key = host_key(address)
            if self.policy.is_own(address, port) or (key, port) in own or (key, None) in own:
                raise DestinationNotAllowed(f"destination {address} is this server itself", OWN)
            why = self.policy.refusal(address)
            if why is not None:
                named = "" if _same_host(host, address) else f" (resolved from {host})"
                raise DestinationNotAllowed(f"destination {address}{named} is not allowed ({why})", why)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await self.resolve(host, port, timeout):
            try:  # the literal address: no second lookup that could answer differently
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationNotAllowed("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _same_host(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(address)
    except ValueError:
        return False


# -- the httpx transport over an httpcore pool using that backend ----------------------------

#: httpcore's errors as httpx's, most specific first
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.RequestError as exc:  # ours (DestinationNotAllowed), raised inside httpcore
        exc.request = request
        raise
    except Exception as exc:
        for core, mapped in _ERRORS:
            if isinstance(exc, core):
                raise mapped(str(exc) or type(exc).__name__, request=request) from exc
        raise


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response, request: httpx.Request, cap: int | None) -> None:
        self.response, self.request, self.cap = response, request, cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        with _as_httpx(self.request):
            async for chunk in self.response.aiter_stream():
                seen += len(chunk)
                if self.cap is not None and seen > self.cap:
                    raise TooLarge(f"a redirect's body is larger than {self.cap} bytes")
                yield chunk

    async def aclose(self) -> None:
        with _as_httpx(self.request):
            await self.response.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport over an httpcore pool whose sockets only reach allowed addresses."""

    def __init__(
        self, policy: AddressPolicy, *, max_connections: int = 100, verify: ssl.SSLContext | bool = True
    ) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify, trust_env=False)
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=min(20, max_connections),
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in SCHEMES:
            raise httpx.UnsupportedProtocol(f"only http and https URLs may be called: {request.url.scheme!r}")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx(request):
            answer = await self.pool.handle_async_request(core)
        redirect = 300 <= answer.status < 400
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer, request, _REDIRECT_BODY_CAP if redirect else None),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


def guarded_client(
    policy: AddressPolicy,
    *,
    timeout: float = 10.0,
    max_connections: int = 100,
    follow_redirects: bool = False,
    max_redirects: int = 3,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """An httpx client whose every connection, redirects included, is checked against ``policy``."""
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, max_connections=max_connections, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,  # proxies from the environment would connect for us, unchecked
        headers={"Accept-Encoding": "identity"},  # read_capped decodes gzip within the cap anyway
    )


# -- reading answers within a cap and a deadline ---------------------------------------------


def _decoder(encoding: str) -> Any:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


async def read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body of a streamed ``response``, decoded, at most ``limit`` bytes; closes the response.

    Beyond ``limit``: TooLarge, or with ``truncate`` the first ``limit`` bytes. Nothing past the
    cap is read (a gzip answer is inflated only up to it)."""
    try:
        if response.is_stream_consumed:
            body = response.content
            if len(body) > limit and not truncate:
                raise TooLarge(f"the answer is larger than {limit} bytes")
            return body[:limit]
        declared = response.headers.get("Content-Length", "")
        if not truncate and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the answer declares {declared} bytes, more than {limit}")
        decoder = _decoder(response.headers.get("Content-Encoding", ""))
        out = bytearray()
        async for chunk in response.aiter_raw():
            data = decoder.decompress(chunk, limit + 1 - len(out)) if decoder else chunk
            out += data
            if len(out) > limit:
                if truncate:
                    return bytes(out[:limit])
                raise TooLarge(f"the answer is larger than {limit} bytes")
        if decoder is not None:
            out += decoder.flush()
            if len(out) > limit and not truncate:
                raise TooLarge(f"the answer is larger than {limit} bytes")
        return bytes(out[:limit])
    except zlib.error as exc:
        raise ValueError(f"the answer's compressed body is corrupt: {exc}") from None
    finally:
        await response.aclose()


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes  #: at most ``limit`` bytes
    url: str  #: after redirects


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    limit: int,
    deadline: float,
    truncate: bool = False,
) -> Fetched:
    """One call within ``deadline`` seconds overall, its answer capped at ``limit`` bytes
    (TooLarge beyond, or cut with ``truncate``: when only the status matters)."""
    request = client.build_request(method, url, content=content, headers=headers)
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(request, stream=True)
            body = await read_capped(response, limit, truncate=truncate)
    except TimeoutError:
        raise DeadlineExceeded(f"no complete answer within {deadline:g} s", request=request) from None
    return Fetched(response.status_code, response.headers, body, str(response.url))
