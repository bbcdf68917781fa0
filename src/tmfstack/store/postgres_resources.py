"""PostgreSQL side of resource records: reads on the pool (``PostgresResources``, mixed into
``PostgresStore``) and writes inside a unit (``PostgresResourceTx``, into ``PostgresTx``).

An insert of an existing id is refused with ``ON CONFLICT DO NOTHING`` (the transaction stays
usable, as with SQLite); an update is a compare-and-set on ``version`` that locks the row; counter
changes are netted per write and applied in key order in one statement (an update that keeps status
and type touches none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from ..errors import Conflict, StaleVersion
from . import sql_postgres as sql
from .base import Indexed, Refs, Row, SqlCond
from .faces import Shown
from .pg_errors import translated
from .sqlparts import count_plan, counter_changes, page_sql, scan_window, where_sql

_SCAN_BATCH = 500
_SCAN_BYTES = 4 << 20  #: bytes of documents one scan batch holds (at least one document)


def _page_sql(
    kind: str,
    conds: Sequence[SqlCond],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
    face: str | None = None,
) -> tuple[str, list[object]]:
    return page_sql(kind, conds, order, offset, limit, "$", nulls=True, collate=sql.COLLATE, face=face)


class PostgresResources:
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError  # provided by PostgresStore

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # provided by PostgresStore

    async def get(self, kind: str, id: str) -> Row | None:
        with translated():
            row = await self.pool.fetchrow(sql.GET, kind, id)
        return Row(*row) if row else None

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        query, args = _page_sql(kind, conds, order, offset, limit)
        with translated():
            return [r[0] for r in await self.pool.fetch(query, *args)]

    async def get_shown(self, kind: str, id: str, face: str) -> Row | None:
        with translated():
            row = await self.pool.fetchrow(sql.GET_SHOWN, face, kind, id)
        return Row(*row) if row else None

    async def page_shown(
        self,
        kind: str,
        conds: Sequence[SqlCond],
        order: Sequence[tuple[str, bool]],
        offset: int,
        limit: int,
        face: str,
    ) -> list[tuple[bytes, bytes | None]]:
        query, args = _page_sql(kind, conds, order, offset, limit, face)
        with translated():
            return [(r[0], r[1]) for r in await self.pool.fetch(query, *args)]

    async def count(self, kind: str, conds: Sequence[SqlCond]) -> int:
        query, args = count_plan(kind, conds, "$", collate=sql.COLLATE)
        with translated():
            return sum(r[0] for r in await self.pool.fetch(query, *args))

    async def scan(self, kind: str, conds: Sequence[SqlCond]) -> AsyncIterator[bytes]:
        where, args = where_sql(kind, conds, "$", collate=sql.COLLATE)
        n = len(args)
        sizes_sql = sql.SCAN_SIZES.format(where=where, a=n + 1, batch=_SCAN_BATCH)
        docs_sql = sql.SCAN_DOCS.format(where=where, a=n + 1, b=n + 2)
        last = 0
        while True:
            # keyset pagination: short statements, no cursor held across the consumer's awaits;
            # the sizes first, then documents up to _SCAN_BYTES (memory stays bounded)
            with translated():
                sizes = await self.pool.fetch(sizes_sql, *args, last)
            if not sizes:
                return
            upto = scan_window([(r[0], r[1]) for r in sizes], _SCAN_BYTES)
            with translated():
                rows = await self.pool.fetch(docs_sql, *args, last, upto)
            last = upto
            for row in rows:
                yield row[0]
            if len(sizes) < _SCAN_BATCH and upto == sizes[-1][0]:
                return

    async def meta(self, key: str) -> str | None:
        with translated():
            return await self.pool.fetchval(sql.META, key)

    async def reindex_refs(self, kind: str, extract: Callable[[bytes], Refs], marker: tuple[str, str]) -> int:
        async with self.transaction() as tx:
            assert isinstance(tx, PostgresResourceTx)
            with translated():
                await tx.conn.execute(sql.LOCK_REFS)
                await tx.conn.execute(sql.KIND_DROP_REFS, kind)
                rows = await tx.conn.fetch(sql.KIND_DOCS, kind)
                for seq, doc in rows:
                    await tx._write_refs(kind, seq, extract(doc))
                await tx.conn.execute(sql.KIND_DROP_COUNTED, kind)
                await tx.conn.execute(sql.KIND_RECOUNT, kind)
                await tx.conn.execute(sql.SET_META, *marker)
        return len(rows)

    async def refresh_faces(self, kind: str, render: Callable[[bytes], Shown], marker: tuple[str, str]) -> int:
        done, last = 0, 0
        async with self.transaction() as tx:
            assert isinstance(tx, PostgresResourceTx)
            with translated():
                await tx.conn.execute(sql.LOCK_FACES, kind)
                if await tx.conn.fetchval(sql.META, marker[0]) == marker[1]:
                    return 0  # another replica redid it while this one waited
                while rows := await tx.conn.fetch(sql.KIND_ROWS, kind, last, _SCAN_BATCH):
                    args = []
                    for seq, version, doc in rows:
                        face, shown = render(doc) or (None, None)
                        args.append((shown, face, seq, version))
                    await tx.conn.executemany(sql.SET_SHOWN, args)
                    done, last = done + len(rows), rows[-1][0]
                await tx.conn.execute(sql.SET_META, *marker)
        return done


class PostgresResourceTx:
    conn: Any  #: asyncpg.Connection

    async def _count(self, kind: str, changes: Sequence[tuple[Indexed, int]]) -> None:
        """Apply the net counter changes in one statement, in key order."""
        rows = counter_changes(changes)
        if rows:
            facets, values, deltas = zip(*rows, strict=True)
            await self.conn.execute(sql.COUNT_CHANGES, kind, list(facets), list(values), list(deltas))

    async def _write_refs(self, kind: str, seq: int, refs: Refs | None) -> None:
        if refs:
            await self.conn.execute(sql.WRITE_REFS, kind, seq, [p for p, _ in refs], [v for _, v in refs])

    async def _drop_refs(self, kind: str, seq: int) -> Refs:
        rows = await self.conn.fetch(sql.DROP_REFS, kind, seq)
        return tuple((r[0], r[1]) for r in rows)

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        query, args = _page_sql(kind, conds, order, offset, limit)
        with translated():
            return [r[0] for r in await self.conn.fetch(query, *args)]

    async def get(self, kind: str, id: str) -> Row | None:
        with translated():
            row = await self.conn.fetchrow(sql.GET, kind, id)
        return Row(*row) if row else None

    async def insert(self, kind: str, id: str, idx: Indexed, doc: bytes, shown: Shown = None) -> None:
        face, rendition = shown or (None, None)
        with translated():
            row = (kind, id, idx.name, idx.status, idx.last_update, idx.type, doc, rendition, face)
            seq = await self.conn.fetchval(sql.INSERT, *row)
            if seq is None:
                raise Conflict(f"a resource with id {id!r} already exists", code="DUPLICATE_ID")
            await self._count(kind, [(idx, 1)])
            await self._write_refs(kind, seq, idx.refs)

    async def update(self, kind: str, id: str, version: int, idx: Indexed, doc: bytes, shown: Shown = None) -> int:
        face, rendition = shown or (None, None)
        with translated():
            old = await self.conn.fetchrow(
                sql.UPDATE, kind, id, version, idx.name, idx.status, idx.last_update, idx.type, doc, rendition, face
            )
            if old is None:
                raise StaleVersion(f"{id!r} was changed concurrently; retry")
            seq, old_refs = old[4], None
            if idx.refs is not None:
                old_refs = await self._drop_refs(kind, seq)
                await self._write_refs(kind, seq, idx.refs)
            # nets to nothing (no statement) when status, @type and counted references stay
            await self._count(kind, [(Indexed.of_row(old, old_refs), -1), (idx, 1)])
        return version + 1

    async def delete(self, kind: str, id: str, version: int | None) -> bool:
        with translated():
            if version is None:
                row = await self.conn.fetchrow(sql.DELETE, kind, id)
            else:
                row = await self.conn.fetchrow(sql.DELETE_VERSION, kind, id, version)
            if row is None:
                return False
            await self._count(kind, [(Indexed.of_row(row, await self._drop_refs(kind, row[4])), -1)])
        return True

    async def hold(self, kind: str, ids: Sequence[str], holder: str, customer: str) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        with translated():  # the primary key refuses a second holder
            rows = await self.conn.fetch(sql.HOLD, kind, holder, customer, wanted)
        return set(wanted) - {r[0] for r in rows}

    async def unhold(self, kind: str, ids: Sequence[str]) -> None:
        with translated():
            await self.conn.execute(sql.UNHOLD, kind, list(ids))

    async def held(self, kind: str, customer: str) -> int:
        with translated():
            return int(await self.conn.fetchval(sql.HELD, customer, kind))
