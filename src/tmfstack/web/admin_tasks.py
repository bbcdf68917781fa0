"""Operator endpoints for the durable task queues (``engine/tasks.py``): parked tasks and their retry.

    GET  /admin/tasks?state=parked|queued&queue=Q    the tasks, oldest first (at most 1000)
    GET  /admin/tasks/{queue}/{key}                  one task and its history (parked, retried: who, when, why)
    POST /admin/tasks/{queue}/{key}/retry            {"reason": "..."}: re-arm a parked task now (202)

The gate lets only tokens with the ``admin`` scope reach ``/admin/*``. A retry is recorded with
the caller's client id and reason; the queue's owner is told (the order manager releases the
held order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.core import Engine
from ..engine.tasks import retry_parked
from ..errors import BadRequest, NotFound, TmfError
from ..store.base import Task
from .gate import principal_of
from .responses import error, json_bytes
from .tmf_routes import read_json

_STATES = {"parked": True, "queued": False}
MAX_REASON = 500
Endpoint = Callable[[Request], Awaitable[Response]]


def _view(task: Task) -> dict[str, Any]:
    return {
        "queue": task.queue,
        "key": task.key,
        "state": "parked" if task.parked is not None else "queued",
        "attempts": task.attempts,
        "lastError": task.last_error,
        "due": task.due,
        "parkedAt": task.parked,
    }


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except TmfError as exc:
            return error(exc)

    return endpoint


def routes(engine: Engine) -> list[Route]:
    store = engine.store

    async def listing(request: Request) -> Response:
        state = request.query_params.get("state")
        if state is not None and state not in _STATES:
            raise BadRequest(f"state must be one of {sorted(_STATES)}", code="INVALID_QUERY")
        queue = request.query_params.get("queue") or None
        found = await store.tasks(queue, parked=_STATES.get(state) if state else None)
        return json_bytes(orjson.dumps([_view(t) for t in found]))

    async def one(request: Request) -> Response:
        queue, key = request.path_params["queue"], request.path_params["key"]
        found = await store.tasks(queue, key=key)
        history = await store.task_history(queue, key)
        if not found and not history:
            raise NotFound(f"no task {queue}/{key}")
        body = _view(found[0]) if found else {"queue": queue, "key": key, "state": "done"}
        body["history"] = [
            {"at": h.at, "actor": h.actor, "action": h.action, "reason": h.reason, "error": h.error} for h in history
        ]
        return json_bytes(orjson.dumps(body))

    async def retry(request: Request) -> Response:
        queue, key = request.path_params["queue"], request.path_params["key"]
        body = await read_json(request)
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise BadRequest(f"a retry needs a reason: a non-empty string of at most {MAX_REASON} characters")
        caller = principal_of(request.scope)
        actor = caller.client_id if caller is not None else "unknown"
        if not await retry_parked(engine, queue, key, actor, reason.strip()):
            raise NotFound(f"no parked task {queue}/{key}")
        answer = {"queue": queue, "key": key, "state": "queued", "retriedBy": actor, "reason": reason.strip()}
        return json_bytes(orjson.dumps(answer), 202)

    return [
        Route("/admin/tasks", _guarded(listing), methods=["GET"]),
        Route("/admin/tasks/{queue}/{key}", _guarded(one), methods=["GET"]),
        Route("/admin/tasks/{queue}/{key}/retry", _guarded(retry), methods=["POST"]),
    ]
