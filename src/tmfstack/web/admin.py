"""Operator endpoints outside the TMF roots: health, and the event deliveries (dead letters)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import limits
from ..apis.activation.callbacks import signed
from ..apis.activation.tmf640 import callback
from ..apis.geography import places
from ..engine.ownership import AUDIT, AUDIT_REF
from ..engine.registry import Engine
from ..errors import BadRequest, NotFound, TmfError, Unauthorized
from ..store.base import REF, SqlCond, Store
from .gate import principal_of
from .responses import error, json_bytes
from .tmf_routes import read_body

_STATUSES = {"pending", "delivered", "dead"}
#: a places-and-markets data set may be large (10,000 areas are ~2 MB); loads bigger than this are split
MAX_REFERENCE = 32 << 20


def admin_routes(store: Store) -> dict[str, object]:
    async def health(request: Request) -> Response:
        return json_bytes(b'{"status":"ok"}')

    async def deliveries(request: Request) -> Response:
        status = request.query_params.get("status")
        try:
            if status is not None and status not in _STATUSES:
                raise BadRequest(f"status must be one of {sorted(_STATUSES)}")
            found = await store.deliveries(status, 1000)
        except TmfError as exc:
            return error(exc)
        items = []
        for d in found:
            item = asdict(d)
            item["payload"] = orjson.loads(item["payload"])
            items.append(item)
        return json_bytes(orjson.dumps(items))

    async def overrides(request: Request) -> Response:
        """The audit of admin overrides of the ownership rules, newest first (``?resource=<id>``: of one record)."""
        resource = request.query_params.get("resource")
        conds = [SqlCond(REF + AUDIT_REF, "eq", (resource,))] if resource else []
        rows = await store.page(AUDIT, conds, [("last_update", True)], 0, 1000)
        return json_bytes(b"[" + b",".join(rows) + b"]")

    async def redeliver(request: Request) -> Response:
        raw = request.path_params["id"]
        number = limits.small_int(raw)  # "²" or 5,000 digits: not a delivery id, never a ValueError
        if number is None or not await store.redeliver(number, time.time()):
            return error(NotFound(f"no dead or delivered delivery {raw}"))
        return Response(status_code=202)

    return {"health": health, "deliveries": deliveries, "redeliver": redeliver, "overrides": overrides}


def activation_callback(engine: Engine) -> Callable[[Request], Awaitable[Response]]:
    """``POST /activation/callback/{monitor id}``: an external activation system's answer to a
    request it accepted (202), see ``apis/activation/adapters.py``."""

    async def endpoint(request: Request) -> Response:
        try:
            monitor_id = request.path_params["id"]
            # a bearer token with the activation scope (the gate checked it), or the URL we signed
            if principal_of(request.scope) is None and not await signed(
                engine, monitor_id, request.query_params.get("sig")
            ):
                raise Unauthorized("the callback needs the signed URL it was given, or an activation token")
            try:
                payload = orjson.loads(raw := await read_body(request))
            except orjson.JSONDecodeError:
                raise BadRequest("the callback body must be JSON", code="INVALID_BODY") from None
            limits.check_json(payload, raw, "the callback body")  # depth and NUL, as on every body
            fresh = await callback(engine, monitor_id, payload)
        except TmfError as exc:
            return error(exc)
        return Response(status_code=204 if fresh else 200)

    return endpoint


def reference_data(engine: Engine) -> Callable[[Request], Awaitable[Response]]:
    """``GET``/``POST /admin/reference``: the places-and-markets data qualification reads
    (``apis/geography/places.py``). POST merges a data set and answers what it loaded; GET
    answers the regions, segments and technologies."""

    async def endpoint(request: Request) -> Response:
        try:
            if request.method == "GET":
                ref = await places.reference(engine)
                body = {
                    "loaded": ref.loaded,
                    "regions": list(ref.regions.values()),
                    "marketSegments": list(ref.segments.values()),
                    "technologies": list(ref.technologies.values()),
                    "speedCharacteristics": ref.speed,
                }
                return json_bytes(orjson.dumps(body))
            try:
                data = orjson.loads(raw := await read_body(request, MAX_REFERENCE))
            except orjson.JSONDecodeError:
                raise BadRequest("the reference data must be JSON", code="INVALID_BODY") from None
            limits.check_json(data, raw, "the reference data")
            return json_bytes(orjson.dumps(await places.load(engine, data)))
        except TmfError as exc:
            return error(exc)

    return endpoint
