"""asyncpg's exceptions translated into ``tmfstack.errors``: nothing driver-specific escapes the store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from ..errors import BadRequest, ConcurrentUpdate, Conflict, ServiceUnavailable, TmfError

log = logging.getLogger("tmfstack.store")


@contextmanager
def translated() -> Iterator[None]:
    """Turn the driver's exceptions into ``tmfstack.errors``; nothing asyncpg-specific escapes."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"already exists: {exc.detail or exc}", code="DUPLICATE_ID") from None
    except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
        raise ConcurrentUpdate("changed concurrently (deadlock or serialization failure); retry") from None
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.TooManyConnectionsError,
        asyncpg.AdminShutdownError,
        asyncpg.InterfaceError,
        OSError,
    ) as exc:
        log.warning("database unavailable: %s", exc)
        raise ServiceUnavailable("the database is unavailable; retry later") from exc
    except (asyncpg.DataError, asyncpg.ProgramLimitExceededError) as exc:
        # a value the engine's checks let through (NUL, too long, out of range): the client's
        # input, so a 400, but the driver's text goes to the log only
        log.warning("value refused by the database: %s: %s", type(exc).__name__, exc)
        raise BadRequest("a value in the request cannot be stored", code="INVALID_VALUE") from None
    except asyncpg.PostgresError as exc:
        raise TmfError(f"database error: {type(exc).__name__}: {exc}") from exc  # logged, never sent (a 500)
