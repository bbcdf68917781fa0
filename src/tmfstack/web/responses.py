"""Response helpers: JSON bytes pass through untouched; errors become TMF Error bodies."""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from ..errors import TmfError

JSON = "application/json;charset=utf-8"
log = logging.getLogger("tmfstack.http")


def json_bytes(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type=JSON)


def error(exc: TmfError, headers: dict[str, str] | None = None) -> Response:
    if exc.status == 500:  # a failure of ours: its text (a driver's message, a path) stays in the log
        return internal_error(exc)
    return json_bytes(orjson.dumps(exc.to_error()), exc.status, headers)


def internal_error(exc: BaseException) -> Response:
    log.error("unhandled error", exc_info=exc)
    body = TmfError("the server failed to process the request; see its log").to_error()
    return json_bytes(orjson.dumps(body), 500)
