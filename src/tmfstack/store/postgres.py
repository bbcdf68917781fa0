"""PostgreSQL backend (asyncpg), for several server processes sharing one database.

Semantics mirror the SQLite backend exactly; the differences are about concurrency:

* the schema is migrated under a transaction-scoped advisory lock, so processes
  starting together migrate once;
* transactions run at READ COMMITTED: an insert of an existing id is refused with
  ``ON CONFLICT DO NOTHING`` (the transaction stays usable, as with SQLite), an
  update is a compare-and-set on ``version`` that locks the row, and counter
  changes are netted per write and applied in key order in one statement (an update
  that keeps status and type touches none); a deadlock between units of work that
  write several resources surfaces as the retryable ``ConcurrentUpdate``;
* deliveries are claimed with ``FOR UPDATE SKIP LOCKED``: each hub's head (its
  lowest-id pending delivery) goes to one process at a time, and a later delivery
  of a hub is never handed out while an earlier one is pending.

Text comparisons and orderings use ``COLLATE "C"`` (code-point order, as Python),
which is also the collation of the indexes, so that the planner can use them.
Driver errors are translated here into ``tmfstack.errors``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from ..errors import Conflict, StaleVersion
from .base import RECOUNT, AuditEntry, Delivery, HubRow, Indexed, Refs, Row, SqlCond, Store, Task, Tx
from .pg_errors import translated as _translated
from .postgres_records import PostgresRecords
from .postgres_tasks import PostgresTaskAdmin, PostgresTaskTx
from .reference_data import PostgresReferenceTx
from .schema import MIGRATIONS, POSTGRES, statements
from .sqlparts import DELIVERY_COLS, HEALTH, count_plan, counter_changes, page_sql, scan_window, where_sql

_SCAN_BATCH = 500
_SCAN_BYTES = 4 << 20  #: bytes of documents one scan batch holds (at least one document)
_COLLATE = ' COLLATE "C"'
#: pg_advisory_xact_lock key taken while migrating ("tmfstack" in ASCII)
_MIGRATION_LOCK = 0x746D66737461636B
_POOL_PARAMS = ("pool_min", "pool_max")

#: a hub's health follows its latest attempt (failed attempts in a row)
_HUB_OK = "UPDATE hub SET failures = 0 FROM done WHERE hub.id = done.hub_id AND hub.failures <> 0"
_HUB_FAILED = "UPDATE hub SET failures = hub.failures + 1 FROM failed WHERE hub.id = failed.hub_id"


def _dsn(url: str) -> tuple[str, int, int]:
    """Strip the pool sizes (``?pool_min=1&pool_max=10``) that asyncpg would not understand."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    sizes = {k: int(v) for k, v in query if k in _POOL_PARAMS}
    rest = urlencode([(k, v) for k, v in query if k not in _POOL_PARAMS])
    low, high = sizes.get("pool_min", 1), sizes.get("pool_max", 10)
    return urlunsplit(parts._replace(query=rest)), low, max(low, high)


class PostgresStore(PostgresTaskAdmin, PostgresRecords, Store):
    placeholder = "$"

    def __init__(self, url: str) -> None:
        self.dsn, self.min_size, self.max_size = _dsn(url)
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "store is not open"
        return self._pool

    async def open(self) -> None:
        with _translated():
            self._pool = await asyncpg.create_pool(self.dsn, min_size=self.min_size, max_size=self.max_size)
            try:
                await self._migrate()
            except BaseException:
                await self._pool.close()
                self._pool = None
                raise

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # serialises processes migrating one database; released at commit
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS tmfstack_meta (key TEXT PRIMARY KEY, value TEXT)")
            value = await conn.fetchval("SELECT value FROM tmfstack_meta WHERE key='schema'")
            done = int(value) if value else 0
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number <= done:
                    continue
                for stmt in statements(migration, POSTGRES):
                    await conn.execute(stmt)
                await conn.execute(
                    "INSERT INTO tmfstack_meta(key, value) VALUES('schema', $1)"
                    " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    str(number),
                )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with _translated():
                await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        with _translated():
            conn = await self.pool.acquire()
        try:
            tr = conn.transaction()
            with _translated():
                await tr.start()
            try:
                yield PostgresTx(conn)
            except BaseException:
                with suppress(Exception):  # a broken connection is dropped by release()
                    await tr.rollback()
                raise
            with _translated():
                await tr.commit()
        finally:
            await self.pool.release(conn)

    # -- reads -----------------------------------------------------------------------

    async def get(self, kind: str, id: str) -> Row | None:
        with _translated():
            row = await self.pool.fetchrow("SELECT id, version, doc FROM resource WHERE kind=$1 AND id=$2", kind, id)
        return Row(*row) if row else None

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        sql, args = _page_sql(kind, conds, order, offset, limit)
        with _translated():
            return [r[0] for r in await self.pool.fetch(sql, *args)]

    async def count(self, kind: str, conds: Sequence[SqlCond]) -> int:
        sql, args = count_plan(kind, conds, "$", collate=_COLLATE)
        with _translated():
            return sum(r[0] for r in await self.pool.fetch(sql, *args))

    async def scan(self, kind: str, conds: Sequence[SqlCond]) -> AsyncIterator[bytes]:
        where, args = where_sql(kind, conds, "$", collate=_COLLATE)
        n = len(args)
        sizes_sql = (
            f"SELECT seq, octet_length(doc) FROM resource WHERE {where} AND seq > ${n + 1}"
            f" ORDER BY seq LIMIT {_SCAN_BATCH}"
        )
        docs_sql = f"SELECT doc FROM resource WHERE {where} AND seq > ${n + 1} AND seq <= ${n + 2} ORDER BY seq"
        last = 0
        while True:
            # keyset pagination: short statements, no cursor held across the consumer's awaits;
            # the sizes first, then documents up to _SCAN_BYTES (memory stays bounded)
            with _translated():
                sizes = await self.pool.fetch(sizes_sql, *args, last)
            if not sizes:
                return
            upto = scan_window([(r[0], r[1]) for r in sizes], _SCAN_BYTES)
            with _translated():
                rows = await self.pool.fetch(docs_sql, *args, last, upto)
            last = upto
            for row in rows:
                yield row[0]
            if len(sizes) < _SCAN_BATCH and upto == sizes[-1][0]:
                return

    async def meta(self, key: str) -> str | None:
        with _translated():
            return await self.pool.fetchval("SELECT value FROM tmfstack_meta WHERE key=$1", key)

    async def reindex_refs(self, kind: str, extract: Callable[[bytes], Refs], marker: tuple[str, str]) -> int:
        async with self.transaction() as tx:
            assert isinstance(tx, PostgresTx)
            with _translated():
                await tx.conn.execute("LOCK TABLE resource_ref IN SHARE ROW EXCLUSIVE MODE")
                await tx.conn.execute("DELETE FROM resource_ref WHERE kind=$1", kind)
                rows = await tx.conn.fetch("SELECT seq, doc FROM resource WHERE kind=$1", kind)
                for seq, doc in rows:
                    await tx._write_refs(kind, seq, extract(doc))
                await tx.conn.execute("DELETE FROM resource_count WHERE kind=$1 AND facet LIKE '@%'", kind)
                await tx.conn.execute(RECOUNT.format("$1"), kind)
                await tx.conn.execute(
                    "INSERT INTO tmfstack_meta(key, value) VALUES($1, $2)"
                    " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                    *marker,
                )
        return len(rows)

    async def get_hub(self, api: str, id: str) -> HubRow | None:
        with _translated():
            row = await self.pool.fetchrow(
                "SELECT id, api, callback, query, doc, client_id, party FROM hub WHERE api=$1 AND id=$2", api, id
            )
        return HubRow(*row) if row else None

    # -- outbox delivery -------------------------------------------------------------

    async def claim_deliveries(
        self, owner: str, now: float, lease: float, limit: int, failing: bool | None = None
    ) -> list[Delivery]:
        # ``heads``: each hub's lowest-id pending delivery (from this statement's snapshot).
        # ``picked`` locks those that are due and not leased, skipping heads another process
        # is claiming or finishing right now; a head committed meanwhile is re-checked on the
        # latest row version by FOR UPDATE, so a fresh lease or a finished delivery drops out.
        # Only heads are ever candidates, so a later delivery of a hub never overtakes one.
        sql = f"""
            WITH heads AS (
                SELECT DISTINCT ON (hub_id) id FROM delivery WHERE status = 'pending' ORDER BY hub_id, id
            ), picked AS (
                SELECT d.id FROM delivery d JOIN heads USING (id) JOIN hub h ON h.id = d.hub_id
                WHERE d.status = 'pending' AND d.next_attempt <= $2 AND (d.lease_until IS NULL OR d.lease_until < $2)
                {HEALTH[failing]}
                ORDER BY h.failures > 0, d.id LIMIT $4
                FOR UPDATE OF d SKIP LOCKED
            ), leased AS (
                UPDATE delivery SET lease_owner = $1, lease_until = $3 FROM picked WHERE delivery.id = picked.id
                RETURNING delivery.*
            )
            SELECT {DELIVERY_COLS}
            FROM leased d JOIN event e ON e.seq = d.event_seq JOIN hub h ON h.id = d.hub_id
            ORDER BY d.id
        """
        with _translated():
            rows = await self.pool.fetch(sql, owner, now, now + lease, limit)
        return [Delivery(*r) for r in rows]

    async def mark_delivered(self, delivery_id: int, now: float, status_code: int) -> None:
        with _translated():
            await self.pool.execute(
                "WITH done AS ("
                " UPDATE delivery SET status='delivered', delivered_at=$2, last_status=$3, attempts=attempts+1,"
                " lease_owner=NULL, lease_until=NULL WHERE id=$1 RETURNING hub_id),"
                f" healthy AS ({_HUB_OK})"
                " INSERT INTO delivery_attempt(delivery_id, at, status_code) VALUES($1, $2, $3)",
                delivery_id,
                now,
                status_code,
            )

    async def mark_failed(self, delivery_id: int, now: float, next_attempt: float, error: str, dead: bool) -> None:
        with _translated():
            await self.pool.execute(
                "WITH failed AS ("
                " UPDATE delivery SET status=$3, attempts=attempts+1, next_attempt=$4, last_error=$5,"
                " lease_owner=NULL, lease_until=NULL WHERE id=$1 RETURNING hub_id),"
                f" sick AS ({_HUB_FAILED})"
                " INSERT INTO delivery_attempt(delivery_id, at, error) VALUES($1, $2, $5)",
                delivery_id,
                now,
                "dead" if dead else "pending",
                next_attempt,
                error[:1000],
            )

    async def deliveries(self, status: str | None, limit: int) -> list[Delivery]:
        if status:
            return await self._deliveries("d.status=$1", [status], limit)
        return await self._deliveries("TRUE", [], limit)

    async def _deliveries(self, where: str, args: Sequence[Any], limit: int) -> list[Delivery]:
        sql = (
            f"SELECT {DELIVERY_COLS}"
            " FROM delivery d JOIN event e ON e.seq = d.event_seq JOIN hub h ON h.id = d.hub_id"
            f" WHERE {where} ORDER BY d.id LIMIT {int(limit)}"
        )
        with _translated():
            return [Delivery(*r) for r in await self.pool.fetch(sql, *args)]

    async def redeliver(
        self, delivery_id: int, now: float, actor: str | None = None, reason: str | None = None
    ) -> bool:
        with _translated():  # the audit row commits with the change, or neither does
            found = await self.pool.fetchval(
                "WITH queued AS (UPDATE delivery SET status='pending', next_attempt=$2, attempts=0, lease_owner=NULL,"
                " lease_until=NULL WHERE id=$1 AND status IN ('dead', 'delivered')"
                " AND hub_id IN (SELECT id FROM hub) RETURNING id)"
                " INSERT INTO delivery_audit(delivery_id, at, actor, action, reason)"
                " SELECT id, $2, $3, 'redeliver', $4 FROM queued RETURNING delivery_id",
                delivery_id,
                now,
                actor,
                reason,
            )
        return found is not None

    async def audit(self, limit: int) -> list[AuditEntry]:
        with _translated():
            rows = await self.pool.fetch(
                "SELECT delivery_id, at, actor, action, reason FROM delivery_audit ORDER BY seq DESC LIMIT $1", limit
            )
        return [AuditEntry(*r) for r in rows]

    # -- task queue ------------------------------------------------------------------

    async def claim_tasks(self, owner: str, now: float, lease: float, limit: int) -> list[Task]:
        # SKIP LOCKED: processes claiming together take disjoint tasks; a task leased meanwhile
        # is re-checked on its latest version by FOR UPDATE and drops out
        with _translated():
            rows = await self.pool.fetch(
                "UPDATE task SET lease_owner=$1, lease_until=$2, attempts=attempts+1 WHERE id IN ("
                " SELECT id FROM task WHERE due <= $3 AND (lease_until IS NULL OR lease_until < $3) AND parked IS NULL"
                " ORDER BY due LIMIT $4 FOR UPDATE SKIP LOCKED)"
                " RETURNING id, queue, key, gen, attempts, last_error",
                owner,
                now + lease,
                now,
                limit,
            )
        return sorted((Task(*r) for r in rows), key=lambda t: t.id)

    async def fail_task(self, task: Task, next_due: float, error: str, *, counted: bool = True) -> None:
        with _translated():
            await self.pool.execute(
                "UPDATE task SET due=$2, last_error=$3, lease_owner=NULL, lease_until=NULL, attempts=attempts-$4"
                " WHERE id=$1",
                task.id,
                next_due,
                error[:1000],
                0 if counted else 1,
            )

    async def next_task_due(self) -> float | None:
        with _translated():
            value: float | None = await self.pool.fetchval(
                "SELECT MIN(GREATEST(due, COALESCE(lease_until, 0))) FROM task WHERE parked IS NULL"
            )
        return value

    async def next_due(self) -> float | None:
        with _translated():
            value: float | None = await self.pool.fetchval(
                # a leased delivery is not due before its lease ends (a crashed owner's lease must expire)
                "SELECT MIN(GREATEST(next_attempt, COALESCE(lease_until, 0))) FROM delivery WHERE status='pending'"
            )
        return value


def _page_sql(
    kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
) -> tuple[str, list[object]]:
    return page_sql(kind, conds, order, offset, limit, "$", nulls=True, collate=_COLLATE)


class PostgresTx(PostgresTaskTx, PostgresReferenceTx, Tx):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _count(self, kind: str, changes: Sequence[tuple[Indexed, int]]) -> None:
        """Apply the net counter changes in one statement, in key order."""
        rows = counter_changes(changes)
        if not rows:
            return
        await self.conn.execute(
            "INSERT INTO resource_count(kind, facet, value, n)"
            " SELECT $1, f, v, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(f, v, n)"
            " ON CONFLICT (kind, facet, value) DO UPDATE SET n = resource_count.n + excluded.n",
            kind,
            [f for f, _, _ in rows],
            [v for _, v, _ in rows],
            [n for _, _, n in rows],
        )

    async def _write_refs(self, kind: str, seq: int, refs: Refs) -> None:
        if refs:
            await self.conn.execute(
                "INSERT INTO resource_ref(kind, path, value, seq)"
                " SELECT $1, p, v, $2 FROM unnest($3::text[], $4::text[]) AS t(p, v) ON CONFLICT DO NOTHING",
                kind,
                seq,
                [p for p, _ in refs],
                [v for _, v in refs],
            )

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        sql, args = _page_sql(kind, conds, order, offset, limit)
        with _translated():
            return [r[0] for r in await self.conn.fetch(sql, *args)]

    async def get(self, kind: str, id: str) -> Row | None:
        with _translated():
            row = await self.conn.fetchrow("SELECT id, version, doc FROM resource WHERE kind=$1 AND id=$2", kind, id)
        return Row(*row) if row else None

    async def insert(self, kind: str, id: str, idx: Indexed, doc: bytes) -> None:
        with _translated():
            seq = await self.conn.fetchval(
                "INSERT INTO resource(kind, id, version, name, status, last_update, type, doc)"
                " VALUES($1, $2, 1, $3, $4, $5, $6, $7) ON CONFLICT (kind, id) DO NOTHING RETURNING seq",
                kind,
                id,
                idx.name,
                idx.status,
                idx.last_update,
                idx.type,
                doc,
            )
            if seq is None:
                raise Conflict(f"a resource with id {id!r} already exists", code="DUPLICATE_ID")
            await self._count(kind, [(idx, 1)])
            await self._write_refs(kind, seq, idx.refs)

    async def update(self, kind: str, id: str, version: int, idx: Indexed, doc: bytes) -> int:
        with _translated():
            # the CTE locks the row; a concurrent committed change fails the version re-check
            old = await self.conn.fetchrow(
                "WITH old AS ("
                " SELECT seq, name, status, last_update, type FROM resource"
                " WHERE kind=$1 AND id=$2 AND version=$3 FOR UPDATE)"
                " UPDATE resource r SET version=r.version+1, name=$4, status=$5, last_update=$6, type=$7, doc=$8"
                " FROM old WHERE r.seq = old.seq RETURNING old.name, old.status, old.last_update, old.type, old.seq",
                kind,
                id,
                version,
                idx.name,
                idx.status,
                idx.last_update,
                idx.type,
                doc,
            )
            if old is None:
                raise StaleVersion(f"{id!r} was changed concurrently; retry")
            seq, old_refs = old[4], None
            if idx.refs is not None:
                old_refs = await self._drop_refs(kind, seq)
                await self._write_refs(kind, seq, idx.refs)
            # nets to nothing (no statement) when status, @type and counted references stay
            await self._count(kind, [(Indexed(*old[:4], refs=old_refs), -1), (idx, 1)])
        return version + 1

    async def _drop_refs(self, kind: str, seq: int) -> Refs:
        rows = await self.conn.fetch(
            "DELETE FROM resource_ref WHERE kind=$1 AND seq=$2 RETURNING path, value", kind, seq
        )
        return tuple((r[0], r[1]) for r in rows)

    async def delete(self, kind: str, id: str, version: int | None) -> bool:
        sql = "DELETE FROM resource WHERE kind=$1 AND id=$2"
        args: tuple[Any, ...] = (kind, id)
        if version is not None:
            sql, args = sql + " AND version=$3", (*args, version)
        with _translated():
            row = await self.conn.fetchrow(sql + " RETURNING name, status, last_update, type, seq", *args)
            if row is None:
                return False
            await self._count(kind, [(Indexed(*row[:4], refs=await self._drop_refs(kind, row[4])), -1)])
        return True

    async def hubs(self, api: str) -> list[HubRow]:
        with _translated():
            rows = await self.conn.fetch(
                "SELECT id, api, callback, query, doc, client_id, party FROM hub WHERE api=$1", api
            )
        return [HubRow(*r) for r in rows]

    async def add_event(self, api: str, event_id: str, event_type: str, payload: bytes, hub_ids: Sequence[str]) -> None:
        with _translated():
            await self.conn.execute(
                "WITH e AS ("
                " INSERT INTO event(event_id, api, event_type, created, payload) VALUES($1, $2, $3, $4, $5)"
                " RETURNING seq)"
                " INSERT INTO delivery(hub_id, event_seq, status, next_attempt)"
                " SELECT h.hub_id, e.seq, 'pending', $4 FROM e, unnest($6::text[]) WITH ORDINALITY AS h(hub_id, n)"
                " ORDER BY h.n",
                event_id,
                api,
                event_type,
                time.time(),
                payload,
                list(hub_ids),
            )

    async def insert_hub(self, hub: HubRow) -> None:
        with _translated():
            done = await self.conn.fetchval(
                "INSERT INTO hub(id, api, callback, query, created, doc, client_id, party, secret)"
                " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id",
                hub.id,
                hub.api,
                hub.callback,
                hub.query,
                time.time(),
                hub.doc,
                hub.client_id,
                hub.party,
                hub.secret,
            )
        if done is None:
            raise Conflict(f"a hub with id {hub.id!r} already exists", code="DUPLICATE_ID")

    async def count_hubs(self, api: str, client_id: str) -> int:
        with _translated():
            found = await self.conn.fetchval("SELECT COUNT(*) FROM hub WHERE api=$1 AND client_id=$2", api, client_id)
        return int(found)

    async def schedule(self, queue: str, key: str, due: float) -> None:
        with _translated():
            await self.conn.execute(
                "INSERT INTO task(queue, key, due) VALUES($1, $2, $3) ON CONFLICT (queue, key) DO UPDATE"
                " SET due = LEAST(task.due, excluded.due), gen = task.gen + 1,"
                # new work for a parked key re-arms it (e.g. an operator released its order)
                " attempts = CASE WHEN task.parked IS NULL THEN task.attempts ELSE 0 END, parked = NULL",
                queue,
                key,
                due,
            )

    async def finish_task(self, task: Task) -> None:
        with _translated():
            gone = await self.conn.fetchval("DELETE FROM task WHERE id=$1 AND gen=$2 RETURNING id", task.id, task.gen)
            if gone is None:
                await self.conn.execute("UPDATE task SET lease_owner=NULL, lease_until=NULL WHERE id=$1", task.id)

    async def hold(self, kind: str, ids: Sequence[str], holder: str, customer: str) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        with _translated():  # the primary key refuses a second holder
            rows = await self.conn.fetch(
                "INSERT INTO pool_hold(kind, id, holder, customer) SELECT $1, i, $2, $3 FROM unnest($4::text[]) AS t(i)"
                " ON CONFLICT DO NOTHING RETURNING id",
                kind,
                holder,
                customer,
                wanted,
            )
        return set(wanted) - {r[0] for r in rows}

    async def unhold(self, kind: str, ids: Sequence[str]) -> None:
        with _translated():
            await self.conn.execute("DELETE FROM pool_hold WHERE kind=$1 AND id = ANY($2::text[])", kind, list(ids))

    async def held(self, kind: str, customer: str) -> int:
        with _translated():
            sql = "SELECT COUNT(*) FROM pool_hold WHERE customer=$1 AND kind=$2"
            return int(await self.conn.fetchval(sql, customer, kind))

    async def delete_hub(self, api: str, id: str) -> bool:
        with _translated():
            found = await self.conn.fetchval("DELETE FROM hub WHERE api=$1 AND id=$2 RETURNING id", api, id)
            if found is None:
                return False
            # undelivered work of a removed subscription is dropped; delivered rows stay as history
            await self.conn.execute("DELETE FROM delivery WHERE hub_id=$1 AND status IN ('pending', 'dead')", id)
        return True
