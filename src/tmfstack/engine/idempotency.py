"""Idempotent creation: a POST with an ``Idempotency-Key`` header is done once, and a retry of it
gets the first answer (draft-ietf-httpapi-idempotency-key-header), across replicas and restarts.

The web edge (``web/tmf_routes.py``) calls ``once`` for every POST to a TMF resource collection that
carries the header; a POST without it never comes here and costs no store read.

* The key: 1 to 255 printable ASCII characters (the draft's quoted form ``"…"`` is accepted and
  unquoted), else a 400. It is scoped to the calling client (the principal's ``client_id``; '' with
  authentication off) and the request path: two clients, or two collections, never share a key.
* The fingerprint: sha256 of the body parsed and serialised again with sorted keys, so that
  whitespace and the order of attributes do not make another request.
* Exactly once: the record (scope, key, fingerprint, status, ``Location``, ``ETag``, body bytes,
  time) is inserted in the unit of work of the creation itself, after the answer is computed
  (``create_response`` included), so a record exists if and only if the creation committed. The
  unit first reads the record: the same fingerprint replays the stored answer (the edge adds
  ``Idempotency-Replayed: true``) and does nothing else; another fingerprint is a 422
  ``IDEMPOTENCY_KEY_REUSED``.
* Two requests racing with one key both find no record and both do the work; the second insert
  meets the first's (``ON CONFLICT``: on PostgreSQL it waits for the first unit to end), writes
  nothing, and its unit rolls back, its creation with it. It then answers the winner's stored
  answer, or a 409 ``IDEMPOTENCY_KEY_IN_USE`` (the draft's "request in progress") if there is none
  to see. On SQLite one process's units are serialised, so the second one already reads the record.
* Only a creation is remembered: a request refused (4xx) or failed writes no record, and a retry
  with the same key tries again.
* Retention: ``TMFSTACK_IDEMPOTENCY_RETENTION`` seconds (a day). An older record is as if absent
  (the key creates again, replacing it), and each insert deletes a bounded batch of expired ones.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import BadRequest, Conflict, Unprocessable
from ..store.base import IdempotencyRow
from .unit import Unit

if TYPE_CHECKING:
    from .core import Engine

#: the request header (lower case, as Starlette looks it up) and the header of a replayed answer
HEADER = "idempotency-key"
REPLAYED = "Idempotency-Replayed"
MAX_KEY = 255
#: expired records deleted by one insert at most: more than one, so pruning keeps up with inserts
_PRUNE = 100


@dataclass(frozen=True)
class Answer:
    """What a creation answered: what is stored, and what a replay sends again."""

    status: int
    body: bytes
    location: str | None
    etag: str | None


@dataclass(frozen=True)
class Keyed:
    """A keyed request: its scope (client, path), key and body fingerprint."""

    client_id: str
    path: str
    key: str
    fingerprint: str


class _Taken(Conflict):
    """Another unit wrote the key's record meanwhile: this unit rolls back."""


def check_key(header: str) -> str:
    """The key of an ``Idempotency-Key`` header, or a 400."""
    key = header[1:-1] if len(header) >= 2 and header[0] == header[-1] == '"' else header
    if not 1 <= len(key) <= MAX_KEY or not all(" " <= c <= "~" for c in key):
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters", code="INVALID_IDEMPOTENCY_KEY"
        )
    return key


def fingerprint(body: Any) -> str:
    """sha256 of the parsed body serialised canonically (sorted keys, no whitespace)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def once(engine: Engine, keyed: Keyed, work: Callable[[Unit], Awaitable[Answer]]) -> tuple[Answer, bool]:
    """The answer to ``keyed``: ``work``'s (done in the unit that records it), or the stored one
    (second item True: a replay)."""
    since = time.time() - engine.settings.idempotency_retention
    try:
        async with engine.unit() as unit:
            found = await _get(unit, keyed, since)
            if found is None:
                answer = await work(unit)
                row = IdempotencyRow(
                    keyed.client_id,
                    keyed.path,
                    keyed.key,
                    keyed.fingerprint,
                    answer.status,
                    answer.location,
                    answer.etag,
                    answer.body,
                    time.time(),
                )
                if not await unit.tx.idempotent_put(row, since):
                    raise _Taken("the Idempotency-Key was taken by a concurrent request")
                await unit.tx.idempotent_prune(since, _PRUNE)
                return answer, False  # once the unit committed
    except _Taken:
        async with engine.unit() as unit:
            found = await _get(unit, keyed, since)
        if found is None:
            raise Conflict(
                "a request with this Idempotency-Key is in progress; retry later", code="IDEMPOTENCY_KEY_IN_USE"
            ) from None
    if found.fingerprint != keyed.fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used for a request with another body", code="IDEMPOTENCY_KEY_REUSED"
        )
    return Answer(found.status, found.body, found.location, found.etag), True


async def _get(unit: Unit, keyed: Keyed, since: float) -> IdempotencyRow | None:
    return await unit.tx.idempotent_get(keyed.client_id, keyed.path, keyed.key, since)
