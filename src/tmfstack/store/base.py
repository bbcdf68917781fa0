"""The storage contract every backend implements (SQLite embedded, PostgreSQL for scale-out).

``Store`` (and its unit of work ``Tx``) is three contracts side by side, each in a store half and a
unit-of-work half: resource records (``Resources`` / ``ResourceTx``), the outbox (``Outbox`` /
``OutboxTx``) and the task queue (``TaskQueue`` / ``TaskTx``); the security edge's records
(``records.SecurityRecords``) and the answers kept for ``Idempotency-Key`` (``IdempotencyTx``,
written in the unit of the creation they answer) are small ones.

A resource is stored as its JSON document (bytes, exactly as served) plus a few
indexed columns the engine extracts from it. Counters per (kind, status) and
(kind, @type) are kept in the same transaction as the rows, so exact
``X-Total-Count`` answers for the common filters cost O(1) at any size.

The outbox's events and their per-subscription deliveries, like the task queue's
tasks, are written in the transaction of the change that caused them; dispatchers and
task runners claim them with a lease, so that several server processes share the work.

Each backend is one module per contract plus its dialect's named statements
(``sql_sqlite`` / ``sql_postgres``); what both run alike is written once (``outbox``,
``tasks``, and the SQL builders of ``sqlparts``).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

from .faces import Shown
from .records import SecurityRecords
from .reference_data import ReferenceTx

#: the indexed columns; the engine maps attributes onto them per resource
COLUMNS = ("id", "name", "status", "last_update", "type")
#: prefix of a SqlCond column naming a declared reference path, e.g. "ref:relatedParty.id"
REF = "ref:"
#: reference paths starting with this are also counted per value, like status and @type (the engine's
#: "@partner": a partner's X-Total-Count costs one counter row)
COUNTED = "@"
#: what the counted references of a kind are rebuilt from, after a re-index
RECOUNT = (
    "INSERT INTO resource_count(kind, facet, value, n) SELECT kind, path, value, COUNT(*) FROM resource_ref"
    " WHERE kind = {0} AND path LIKE '@%' GROUP BY kind, path, value"
)
Refs = tuple[tuple[str, str], ...]
Op = Literal["eq", "ne", "gt", "gte", "lt", "lte"]


@dataclass(frozen=True)
class Indexed:
    """The indexed values of one document."""

    name: str | None
    status: str | None
    last_update: str | None
    type: str | None
    #: (path, value) pairs of the declared reference paths, kept in ``resource_ref``;
    #: None on an update means "unchanged"
    refs: Refs | None = ()

    @classmethod
    def of_row(cls, row: Sequence[Any], refs: Refs | None) -> Indexed:
        """The values of a stored row whose first four columns are name, status, last_update, type."""
        return cls(row[0], row[1], row[2], row[3], refs)


@dataclass(frozen=True)
class SqlCond:
    column: str  #: one of COLUMNS, or REF + a declared path (equality only)
    op: Op
    values: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    id: str
    version: int
    doc: bytes
    #: a served version's rendition of ``doc`` when one was asked for and is current (``faces.py``)
    shown: bytes | None = None


@dataclass(frozen=True)
class HubRow:
    id: str
    api: str
    callback: str
    query: str | None
    doc: bytes
    client_id: str | None = None  #: the OAuth client that registered it (None: auth off)
    party: str | None = None  #: the partner it was registered for; it receives only that partner's events
    secret: str | None = None  #: the webhook signing secret, sealed (written only; see events/signing.py)


@dataclass(frozen=True)
class Delivery:
    id: int
    hub_id: str
    callback: str
    event_id: str
    event_type: str
    payload: bytes
    attempts: int
    status: str = "pending"
    last_error: str | None = None  #: a short reason of ours ("HTTP 500", "timeout"), never answer text
    hub_failures: int = 0  #: the hub's failed attempts in a row (0: healthy)
    secret: str | None = None  #: the hub's sealed signing secret; never shown
    hub_api: str = ""  #: the hub's event API ("tmf622.v5"): the version whose shape it receives


@dataclass(frozen=True)
class AuditEntry:
    """An operator's action on a delivery: who (client id), when, why."""

    delivery_id: int
    at: float
    actor: str | None
    action: str
    reason: str | None


@dataclass(frozen=True)
class Task:
    id: int
    queue: str
    key: str
    gen: int  #: bumped by every schedule(); finishing an older generation keeps the task
    attempts: int
    last_error: str | None = None
    due: float | None = None
    parked: float | None = None  #: when it was parked (it failed ``TMFSTACK_TASK_MAX_ATTEMPTS`` times)


@dataclass(frozen=True)
class TaskAudit:
    """One line of a task's history: parked by the runner, retried by an operator."""

    queue: str
    key: str
    at: float
    actor: str
    action: str  #: "parked" | "retry"
    reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class IdempotencyRow:
    """The stored answer to a POST that carried an ``Idempotency-Key`` (``engine/idempotency.py``)."""

    client_id: str  #: the calling client ('' with authentication off); with ``path``, the key's scope
    path: str
    key: str
    fingerprint: str  #: sha256 of the canonical request body
    status: int
    location: str | None
    etag: str | None
    body: bytes
    created: float  #: epoch seconds; older than the retention, the record is as if absent


# -- the three contracts ------------------------------------------------------------------
# A backend implements each twice: inside a unit of work (``*Tx``: seen and committed with the
# change that caused it) and on the store itself (reads, and writes that are a unit of their own).


class ResourceTx(abc.ABC):
    """Resource records inside a unit: documents, their indexes and counters, pool-member holds."""

    @abc.abstractmethod
    async def get(self, kind: str, id: str) -> Row | None: ...

    @abc.abstractmethod
    async def insert(self, kind: str, id: str, idx: Indexed, doc: bytes, shown: Shown = None) -> None:
        """Raise Conflict when (kind, id) exists. ``shown``: the document's face (``faces.py``)."""

    @abc.abstractmethod
    async def update(self, kind: str, id: str, version: int, idx: Indexed, doc: bytes, shown: Shown = None) -> int:
        """Compare-and-set on ``version``; return the new version or raise Conflict."""

    @abc.abstractmethod
    async def delete(self, kind: str, id: str, version: int | None) -> bool: ...

    @abc.abstractmethod
    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        """As ``Store.page``, seeing this transaction's own writes (for domain steps)."""

    # pool-member holding (one holder per member: the table's primary key)

    @abc.abstractmethod
    async def hold(self, kind: str, ids: Sequence[str], holder: str, customer: str) -> set[str]:
        """Record ``holder`` (for ``customer``) as holding each of ``ids``, in one statement;
        returns the ids someone already holds (nothing is recorded for them)."""

    @abc.abstractmethod
    async def unhold(self, kind: str, ids: Sequence[str]) -> None: ...

    @abc.abstractmethod
    async def held(self, kind: str, customer: str) -> int:
        """How many members of ``kind`` are held for ``customer``."""


class Resources(abc.ABC):
    """Resource records read straight from the database, and their maintenance."""

    @abc.abstractmethod
    async def get(self, kind: str, id: str) -> Row | None: ...

    @abc.abstractmethod
    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        """Documents matching all ``conds``, ordered by ``order`` (column, descending) then id."""

    @abc.abstractmethod
    async def get_shown(self, kind: str, id: str, face: str) -> Row | None:
        """As ``get``, with ``face`` of the document in ``Row.shown`` when it is current (``faces.py``)."""

    @abc.abstractmethod
    async def page_shown(
        self,
        kind: str,
        conds: Sequence[SqlCond],
        order: Sequence[tuple[str, bool]],
        offset: int,
        limit: int,
        face: str,
    ) -> list[tuple[bytes, bytes | None]]:
        """As ``page``, each document with its current ``face`` (or None)."""

    @abc.abstractmethod
    async def count(self, kind: str, conds: Sequence[SqlCond]) -> int: ...

    @abc.abstractmethod
    def scan(self, kind: str, conds: Sequence[SqlCond]) -> AsyncIterator[bytes]:
        """Every matching document, for filters and sorts the engine evaluates itself."""

    @abc.abstractmethod
    async def meta(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def reindex_refs(self, kind: str, extract: Callable[[bytes], Refs], marker: tuple[str, str]) -> int:
        """Rebuild ``kind``'s reference index from its documents and record ``marker`` (key, value)
        in the same transaction; returns the number of rows indexed."""

    @abc.abstractmethod
    async def refresh_faces(self, kind: str, render: Callable[[bytes], Shown], marker: tuple[str, str]) -> int:
        """Redo the face of every document of ``kind`` with ``render(doc)`` and record
        ``marker`` in the same transaction (unless another process recorded it meanwhile); returns
        the rows rendered."""


class OutboxTx(abc.ABC):
    """The outbox inside a unit: subscriptions (hubs), and events with their deliveries."""

    @abc.abstractmethod
    async def hubs(self, api: str) -> list[HubRow]: ...

    @abc.abstractmethod
    async def insert_hub(self, hub: HubRow) -> None: ...

    @abc.abstractmethod
    async def delete_hub(self, api: str, id: str) -> bool: ...

    @abc.abstractmethod
    async def count_hubs(self, api: str, client_id: str) -> int:
        """How many subscriptions ``client_id`` has on ``api``."""

    @abc.abstractmethod
    async def add_event(
        self, api: str, event_id: str, event_type: str, payload: bytes, hub_ids: Sequence[str]
    ) -> None: ...


class Outbox(abc.ABC):
    """Delivering the outbox: leases, outcomes, the operator's redelivery and its audit."""

    @abc.abstractmethod
    async def get_hub(self, api: str, id: str) -> HubRow | None: ...

    @abc.abstractmethod
    async def claim_deliveries(
        self, owner: str, now: float, lease: float, limit: int, failing: bool | None = None
    ) -> list[Delivery]:
        """Lease the oldest pending, due delivery of each subscription (keeps per-hub order), those of
        healthy hubs first; ``failing``: only of hubs whose last attempt failed (True) or did not."""

    @abc.abstractmethod
    async def mark_delivered(self, delivery_id: int, now: float, status_code: int) -> None: ...

    @abc.abstractmethod
    async def mark_failed(self, delivery_id: int, now: float, next_attempt: float, error: str, dead: bool) -> None: ...

    @abc.abstractmethod
    async def deliveries(self, status: str | None, limit: int) -> list[Delivery]: ...

    @abc.abstractmethod
    async def redeliver(
        self, delivery_id: int, now: float, actor: str | None = None, reason: str | None = None
    ) -> bool:
        """Put a dead (or delivered) delivery back in the queue, recording who asked and why."""

    @abc.abstractmethod
    async def audit(self, limit: int) -> list[AuditEntry]:
        """The latest operator actions on deliveries, newest first."""

    @abc.abstractmethod
    async def next_due(self) -> float | None:
        """Earliest next_attempt among pending deliveries, to know how long to sleep."""


class TaskTx(abc.ABC):
    """The task queue inside a unit: work scheduled or finished with the change it belongs to."""

    @abc.abstractmethod
    async def schedule(self, queue: str, key: str, due: float) -> None:
        """Create the (queue, key) task, or bring its due time forward and bump its generation."""

    @abc.abstractmethod
    async def finish_task(self, task: Task) -> None:
        """Delete the task if nobody re-scheduled it since the claim, else just release it."""

    @abc.abstractmethod
    async def park_task(self, task: Task, now: float, error: str) -> None:
        """Stop retrying ``task`` (it is claimed no more) and record why in its history."""

    @abc.abstractmethod
    async def unpark_task(self, queue: str, key: str, now: float, actor: str, reason: str) -> bool:
        """Give a parked task its attempts back and record who asked; False when it is not parked.
        (The caller schedules it, which makes it due.)"""


class TaskQueue(abc.ABC):
    """Running the task queue: leases, retries, and the operator's view of parked tasks."""

    @abc.abstractmethod
    async def claim_tasks(self, owner: str, now: float, lease: float, limit: int) -> list[Task]:
        """Lease due, unleased tasks, earliest first."""

    @abc.abstractmethod
    async def fail_task(self, task: Task, next_due: float, error: str, *, counted: bool = True) -> None:
        """Release ``task`` until ``next_due``; ``counted`` False gives the attempt back (a lost race)."""

    @abc.abstractmethod
    async def next_task_due(self) -> float | None: ...

    @abc.abstractmethod
    async def tasks(
        self, queue: str | None = None, *, key: str | None = None, parked: bool | None = None, limit: int = 1000
    ) -> list[Task]:
        """Tasks (of ``queue``; only parked or only live ones), oldest first."""

    @abc.abstractmethod
    async def task_history(self, queue: str, key: str, limit: int = 100) -> list[TaskAudit]: ...


class IdempotencyTx(abc.ABC):
    """Answers kept for ``Idempotency-Key``, read and written inside the unit of the creation."""

    @abc.abstractmethod
    async def idempotent_get(self, client_id: str, path: str, key: str, since: float) -> IdempotencyRow | None:
        """The record of the key created at ``since`` or later, else None (an older one is expired)."""

    @abc.abstractmethod
    async def idempotent_put(self, row: IdempotencyRow, since: float) -> bool:
        """Insert ``row``, or replace an expired record (created before ``since``) of its key; False,
        writing nothing, when a live record holds the key (a concurrent unit's insert is waited for)."""

    @abc.abstractmethod
    async def idempotent_prune(self, before: float, limit: int) -> None:
        """Delete up to ``limit`` records created before ``before``."""


# -- the whole ------------------------------------------------------------------------


class Tx(ResourceTx, OutboxTx, TaskTx, ReferenceTx, IdempotencyTx, abc.ABC):
    """One database transaction; everything done through it commits or rolls back together."""


class Store(Resources, Outbox, TaskQueue, SecurityRecords, abc.ABC):
    """A backend. Reads go straight to the database; writes go through ``transaction()``."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...


def open_store(url: str) -> Store:
    if url.startswith("sqlite:"):
        from .sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r} (use sqlite:///file.db or postgresql://…)")
