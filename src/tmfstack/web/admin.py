"""Operator endpoints outside the TMF roots: health, and the event deliveries (dead letters)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import limits
from ..apis.activation.callbacks import signed
from ..apis.activation.tmf640 import callback
from ..apis.geography import places
from ..engine.core import Engine
from ..engine.ownership import AUDIT, AUDIT_REF
from ..errors import BadRequest, NotFound, TmfError, Unauthorized
from ..net.addresses import redact_url
from ..store.base import REF, Delivery, SqlCond, Store
from .gate import principal_of
from .responses import error, json_bytes
from .tmf_routes import read_body

_STATUSES = {"pending", "delivered", "dead"}
#: an audited action's body: a short reason
MAX_AUDIT_BODY, AUDIT_REASON = 4096, 500
#: a places-and-markets data set may be large (10,000 areas are ~2 MB); loads bigger than this are split
MAX_REFERENCE = 32 << 20


def admin_routes(store: Store) -> dict[str, Callable[[Request], Awaitable[Response]]]:
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
        return json_bytes(orjson.dumps([_shown(d) for d in found]))

    async def overrides(request: Request) -> Response:
        """The audit of admin overrides of the ownership rules, newest first (``?resource=<id>``: of one record)."""
        resource = request.query_params.get("resource")
        conds = [SqlCond(REF + AUDIT_REF, "eq", (resource,))] if resource else []
        rows = await store.page(AUDIT, conds, [("last_update", True)], 0, 1000)
        return json_bytes(b"[" + b",".join(rows) + b"]")

    async def redeliver(request: Request) -> Response:
        """``POST /admin/deliveries/{id}/redeliver`` with an optional ``{"reason": "…"}``: audited
        (who: the caller's client id, when, why), in the same transaction as the change."""
        raw = request.path_params["id"]
        try:
            reason = _reason(await read_body(request, MAX_AUDIT_BODY))
        except TmfError as exc:
            return error(exc)
        caller = principal_of(request.scope)
        actor = caller.client_id if caller is not None else None
        number = limits.small_int(raw)  # "²" or 5,000 digits: not a delivery id, never a ValueError
        if number is None or not await store.redeliver(number, time.time(), actor, reason):
            return error(NotFound(f"no dead or delivered delivery {raw}"))
        return Response(status_code=202)

    async def audit(request: Request) -> Response:
        """``GET /admin/audit``: the latest operator actions on deliveries, newest first."""
        rows = await store.audit(1000)
        shown = [
            {"deliveryId": r.delivery_id, "action": r.action, "actor": r.actor, "at": r.at, "reason": r.reason}
            for r in rows
        ]
        return json_bytes(orjson.dumps(shown))

    return {
        "health": health,
        "deliveries": deliveries,
        "redeliver": redeliver,
        "audit": audit,
        "overrides": overrides,
    }


def _shown(d: Delivery) -> dict[str, Any]:
    """A delivery as operators see it: the callback without its query values (tokens often ride
    there), the last error as our short reason only, never the hub's secret or a listener's words."""
    item = asdict(d)
    del item["secret"]
    item["callback"] = redact_url(d.callback)
    item["payload"] = orjson.loads(d.payload)
    error_text = d.last_error
    if error_text is not None and error_text.startswith("HTTP "):  # rows from before: answer text after the status
        error_text = error_text[:8]
    item["last_error"] = error_text
    return item


def _reason(body: bytes) -> str | None:
    """The optional ``reason`` of an operator action: printable text, at most AUDIT_REASON characters."""
    if not body.strip():
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest('the body must be JSON such as {"reason": "…"}', code="INVALID_BODY") from None
    if not isinstance(data, dict) or set(data) - {"reason"}:
        raise BadRequest('the body may carry a reason only: {"reason": "…"}', code="INVALID_BODY")
    reason = data.get("reason")
    if reason is None:
        return None
    if not isinstance(reason, str) or len(reason) > AUDIT_REASON or not reason.isprintable():
        raise BadRequest(f"reason must be printable text of at most {AUDIT_REASON} characters", code="INVALID_BODY")
    return reason


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
