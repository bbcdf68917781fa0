"""The HTTP edge of every TMF API: ``/tmf-api/<api>/<version>/<resource>[/<id>]``.

One router serves every declared API: it finds the API by its root, the
resource by its path segment, and maps methods to the engine's operations.
Sub-resources (``engine/nested.py``) are served under an existing parent:
``<root>/<parent>/<parentId>/<child>[/<id>]``, the parent's hubs at ``<root>/<parent>/<parentId>/hub``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .. import limits
from ..auth.principal import Principal
from ..auth.scopes import ADMIN
from ..engine import idempotency
from ..engine.core import Engine
from ..engine.hubs import HubService
from ..engine.nested import ChildService, scope
from ..engine.ownership import Actor
from ..engine.patch import media_type
from ..engine.service import ResourceService, etag
from ..engine.unit import Unit
from ..errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TmfError,
    Unauthorized,
    UnsupportedMediaType,
)
from ..tmf import Doc
from .gate import HEADERS, principal_of, require
from .responses import error, internal_error, json_bytes

#: the header of an operator's audited override of the ownership rules (README: Hardening: ownership)
OVERRIDE = "x-override-reason"
MAX_REASON = 500
#: bodies larger than this are parsed and checked in a worker thread: the event loop stays free
_OFF_LOOP = 64 << 10
#: the answer to POST /hub that carries the new subscription's webhook signing secret
SECRET_HEADER = "X-Tmf-Hub-Secret"
_ALLOW = {"list": "GET", "create": "POST", "get": "GET", "patch": "PATCH", "put": "PUT", "delete": "DELETE"}


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The body, streamed up to ``limit`` bytes (``TMFSTACK_MAX_BODY``; 1 MiB): a 413 beyond."""
    limit = limit or limits.current.body
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"request body of {length} bytes exceeds the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    given = media_type(request.headers.get("content-type"))
    if given != "application/json" and not given.endswith("+json"):
        raise UnsupportedMediaType(f"expected application/json, got {given!r}")
    return await parse_json(await read_body(request))


async def parse_json(body: bytes, what: str = "request body") -> Any:
    """``limits.parse_json`` (valid JSON, not too deep, no NUL), off the loop for large bodies."""
    if len(body) > _OFF_LOOP:
        return await asyncio.to_thread(limits.parse_json, body, what)
    return limits.parse_json(body, what)


def _large(request: Request) -> bool:
    if request.method not in ("POST", "PATCH", "PUT"):
        return False
    length = request.headers.get("content-length")
    return length is None or not length.isdigit() or len(length) > 9 or int(length) > _OFF_LOOP


def actor_of(caller: Principal, request: Request) -> Actor | None:
    """The engine's view of a client's write. None for the local operator of ``--no-auth`` (loopback
    only, every caller the operator): it writes as the server does, like the order manager."""
    if caller.unrestricted:
        return None
    reason = request.headers.get(OVERRIDE)
    if reason is not None:
        reason = " ".join(reason.split())
        if not reason or len(reason) > MAX_REASON or not reason.isprintable():
            raise BadRequest(f"X-Override-Reason must be 1 to {MAX_REASON} printable characters", code="INVALID_HEADER")
        if not caller.allows(ADMIN):
            raise Forbidden(f"an override needs the scope {ADMIN}", code="INSUFFICIENT_SCOPE")
    return Actor(caller.client_id, caller.party, reason)


def _not_allowed(ops: frozenset[str], item: bool, method: str) -> MethodNotAllowed:
    allowed = sorted({_ALLOW[o] for o in ops if (o in ("get", "patch", "put", "delete")) == item})
    exc = MethodNotAllowed(f"{method} is not allowed here; allowed: {', '.join(allowed) or 'none'}")
    exc.allow = ", ".join(allowed)
    return exc


def _selected(svc: ResourceService, request: Request) -> frozenset[str] | None:
    """The attributes ``?fields=`` selects, None without it."""
    fields = request.query_params.get("fields") if request.scope["query_string"] else None
    return svc.query([("fields", fields)]).fields or frozenset() if fields is not None else None


async def _answer(
    svc: ResourceService, request: Request, doc: Doc, raw: bytes, version: int, unit: Unit | None
) -> idempotency.Answer:
    """The answer to a creation: the document (201), or what the declaration's ``create_response``
    chooses (``unit``: the creation's, when the answer is stored with it)."""
    status, body, location = 201, None, None
    if svc.decl.create_response is not None:
        status, body, location = await svc.decl.create_response(svc, doc, unit) or (201, None, None)
    location = location or svc.location(doc)
    if body is not None:
        return idempotency.Answer(status, body, location, None)
    return idempotency.Answer(status, svc.respond(raw, _selected(svc, request)), location, etag(version))


def _answered(answer: idempotency.Answer) -> Response:
    headers = {"Location": answer.location} if answer.location else {}
    if answer.etag:
        headers["ETag"] = answer.etag
    return json_bytes(answer.body, answer.status, headers)


class TmfRouter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # "/tmf-api/productCatalogManagement/v4" -> api root, split once at start
        self.roots = {tuple(root.strip("/").split("/")): root for root in engine.apis}
        self.large = asyncio.Semaphore(limits.current.large_bodies)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a ``/tmf-api/…`` request without the generic router and middleware (hot path)."""
        response = await self(Request(scope, receive))
        extra = scope.get(HEADERS)
        if extra:  # the gate's rate-limit fields
            response.raw_headers.extend(extra)
        await response(scope, receive, send)

    async def __call__(self, request: Request) -> Response:
        try:
            if _large(request):  # admitted a few at a time: a body, its parse and its document
                async with self.large:
                    return await self.dispatch(request)
            return await self.dispatch(request)
        except TmfError as exc:
            allow, challenge = getattr(exc, "allow", None), getattr(exc, "challenge", None)
            headers = {"Allow": allow} if allow else {"WWW-Authenticate": challenge} if challenge else None
            return error(exc, headers)
        except Exception as exc:  # the edge turns every failure into a TMF error
            return internal_error(exc)

    async def dispatch(self, request: Request) -> Response:
        path = request.scope["path"]
        parts = path.strip("/").split("/")
        root = self.roots.get(tuple(parts[:3]))
        rest = parts[3:]
        if root is None or not rest or len(rest) > 4 or not all(rest):
            raise NotFound(f"no TMF resource at {path}")
        method = request.method
        caller = principal_of(request.scope)
        if caller is None:  # only the gate admits requests here, always with a principal
            raise Unauthorized("a bearer token is required")
        is_hub = rest[0] == "hub" or (len(rest) > 2 and rest[2] == "hub")
        require(caller, self.engine.apis[root].key, method, is_hub)
        if rest[0] == "hub":
            return await self.hub(self.engine.hubs[root], rest[1:], method, request)
        svc = self.engine.services[root].get(rest[0])
        if svc is None or svc.decl.parent is not None:
            raise NotFound(f"no TMF resource at {path}")
        if len(rest) > 2:
            return await self.nested(root, svc, rest[1:], method, request, caller)
        return await self.serve(svc, rest[1:], method, request, caller)

    async def nested(
        self, root: str, parent: ResourceService, rest: list[str], method: str, request: Request, caller: Principal
    ) -> Response:
        """``<parentId>/<child>[/<id>]``: the parent must exist (and be visible to the caller)."""
        parent_id, child = limits.check_id(rest[0]), rest[1]
        served = parent.api.contract.served(f"{parent.name}/{child}")
        svc = self.engine.services[root].get(f"{parent.name}/{child}")
        if served is None or (child != "hub" and not isinstance(svc, ChildService)):
            raise NotFound(f"no TMF resource at {request.scope['path']}")
        await parent.get(parent_id, caller.party)  # 404 for a parent that does not exist
        if child == "hub":
            hubs = self.engine.hubs[root].scoped(scope(parent.name, parent_id))
            return await self.hub(hubs, rest[2:], method, request, listed="list" in served)
        assert isinstance(svc, ChildService)
        return await self.serve(svc.under(parent_id), rest[2:], method, request, caller)

    async def serve(
        self, svc: ResourceService, rest: list[str], method: str, request: Request, caller: Principal
    ) -> Response:
        """The collection (``rest`` empty) or the item ``rest[0]`` of ``svc``."""
        party = caller.party  # a partner client sees its own business only
        ops = svc.operations
        if not rest:
            if method in ("GET", "HEAD") and "list" in ops:
                return await self.list(svc, request, party)
            if method == "POST" and "create" in ops:
                return await self.create(svc, request, caller)
            raise _not_allowed(ops, False, method)
        id = limits.check_id(rest[0])  # one rule for ids on every path (a malformed one is a 400)
        if method in ("GET", "HEAD") and "get" in ops:
            return await self.get(svc, id, request, party)
        if_match = request.headers.get("if-match")
        if method == "PATCH" and "patch" in ops:
            body, actor = await read_body(request), actor_of(caller, request)
            content_type = request.headers.get("content-type")
            _, raw, version = await svc.patch(id, body, content_type, if_match, party=party, actor=actor)
            return self._item(svc, raw, version, request)
        if method == "PUT" and "put" in ops:
            body, actor = await read_json(request), actor_of(caller, request)
            _, raw, version = await svc.replace(id, body, if_match, party=party, actor=actor)
            return self._item(svc, raw, version, request)
        if method == "DELETE" and "delete" in ops:
            await svc.delete(id, if_match, party=party, actor=actor_of(caller, request))
            return Response(status_code=204)
        raise _not_allowed(ops, True, method)

    def _item(
        self,
        svc: ResourceService,
        raw: bytes,
        version: int,
        request: Request,
        status: int = 200,
        shown: bytes | None = None,
    ) -> Response:
        return json_bytes(svc.respond(raw, _selected(svc, request), shown), status, {"ETag": etag(version)})

    async def get(self, svc: ResourceService, id: str, request: Request, party: str | None) -> Response:
        row = await svc.get(id, party)
        tag = etag(row.version)
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return self._item(svc, row.doc, row.version, request, shown=row.shown)

    async def list(self, svc: ResourceService, request: Request, party: str | None) -> Response:
        query = svc.query(request.query_params.multi_items())
        page = await svc.list(query, party)
        body = b"[" + b",".join(page.items) + b"]"
        status = 206 if len(page.items) < page.total else 200
        headers = {"X-Total-Count": str(page.total), "X-Result-Count": str(len(page.items))}
        return json_bytes(body, status, headers)

    async def create(self, svc: ResourceService, request: Request, caller: Principal) -> Response:
        """A POST; with an ``Idempotency-Key``, done once per key (``engine/idempotency.py``)."""
        header = request.headers.get(idempotency.HEADER)
        key = None if header is None else idempotency.check_key(header)
        party, actor = caller.party, actor_of(caller, request)
        body = await read_json(request)
        if key is None:
            doc, raw, version = await svc.create(body, party=party, actor=actor, checked=True)
            return _answered(await _answer(svc, request, doc, raw, version, None))

        async def work(unit: Unit) -> idempotency.Answer:
            doc, raw, version = await svc.create(body, unit=unit, party=party, actor=actor, checked=True)
            return await _answer(svc, request, doc, raw, version, unit)

        client = "" if caller.unrestricted else caller.client_id
        keyed = idempotency.Keyed(client, request.scope["path"], key, idempotency.fingerprint(body))
        answer, replayed = await idempotency.once(self.engine, keyed, work)
        response = _answered(answer)
        if replayed:
            response.headers[idempotency.REPLAYED] = "true"
        return response

    async def hub(
        self, hubs: HubService, rest: Sequence[str], method: str, request: Request, listed: bool = False
    ) -> Response:
        """``rest``: what follows ``hub`` (nothing, or the hub's id); ``listed``: GET lists the hubs."""
        caller = principal_of(request.scope)
        assert caller is not None
        if len(rest) > 1:
            raise NotFound(f"no TMF resource at {request.scope['path']}")
        if not rest:
            if method in ("GET", "HEAD") and listed:
                found = await hubs.list(caller.party)
                headers = {"X-Total-Count": str(len(found)), "X-Result-Count": str(len(found))}
                return json_bytes(b"[" + b",".join(found) + b"]", 200, headers)
            if method != "POST":
                raise _not_allowed(frozenset({"create", "list"} if listed else {"create"}), False, method)
            raw, secret = await hubs.create(await read_json(request), caller.client_id, caller.party)
            hub_id = orjson.loads(raw)["id"]
            # the signing secret is answered this once (a header: the body stays the spec's EventSubscription)
            headers = {"Location": hubs.href(hub_id), SECRET_HEADER: secret, "Cache-Control": "no-store"}
            return json_bytes(raw, 201, headers)
        hub_id = limits.check_id(rest[0])
        if method == "GET":
            return json_bytes(await hubs.get(hub_id, caller.party))
        if method == "DELETE":
            await hubs.delete(hub_id, caller.party)
            return Response(status_code=204)
        raise _not_allowed(frozenset({"get", "delete"}), True, method)
