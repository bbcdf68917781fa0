"""SQLite side of resource records: reads on the shared connection (``SqliteResources``, mixed into
``SqliteStore``) and writes inside a unit (``SqliteResourceTx``, into ``SqliteTx``).

Counters and reference-index rows change in the same unit as the row they describe.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from .. import limits
from ..errors import Conflict, StaleVersion
from . import sql_sqlite as sql
from .base import Indexed, Refs, Row, SqlCond
from .faces import Shown
from .sqlparts import count_plan, counter_changes, page_sql, scan_window, where_sql

_SCAN_BATCH = 500
#: bytes of documents one scan batch holds (at least one document): 500 large documents are not
#: read at once, and the loop is given a turn after each batch
_SCAN_BYTES = 4 << 20


def _get(conn: sqlite3.Connection, kind: str, id: str) -> Row | None:
    row = conn.execute(sql.GET, (kind, id)).fetchone()
    return Row(*row) if row else None


def _rows(
    conn: sqlite3.Connection,
    kind: str,
    conds: Sequence[SqlCond],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
    face: str | None = None,
) -> list[Any]:
    query, args = page_sql(kind, conds, order, offset, limit, "?", nulls=False, face=face)
    # the cursor reads row by row: a page of large documents ends at TMFSTACK_MAX_PAGE_BYTES
    # (a shorter page, answered 206 like any partial one) instead of reading 1,000 of them
    rows, size, budget = [], 0, limits.current.page
    for row in conn.execute(query, args):
        rows.append(row)
        size += len(row[0])
        if size >= budget:
            break
    return rows


def _page(
    conn: sqlite3.Connection,
    kind: str,
    conds: Sequence[SqlCond],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> list[bytes]:
    return [row[0] for row in _rows(conn, kind, conds, order, offset, limit)]


class SqliteResources:
    @property
    def conn(self) -> sqlite3.Connection:
        raise NotImplementedError  # provided by SqliteStore (its one shared connection)

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError  # provided by SqliteStore

    async def get(self, kind: str, id: str) -> Row | None:
        return _get(self.conn, kind, id)

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        return _page(self.conn, kind, conds, order, offset, limit)

    async def get_shown(self, kind: str, id: str, face: str) -> Row | None:
        row = self.conn.execute(sql.GET_SHOWN, (face, kind, id)).fetchone()
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
        return _rows(self.conn, kind, conds, order, offset, limit, face)

    async def count(self, kind: str, conds: Sequence[SqlCond]) -> int:
        plan = count_plan(kind, conds, "?")
        return sum(r[0] for r in self.conn.execute(*plan))

    async def scan(self, kind: str, conds: Sequence[SqlCond]) -> AsyncIterator[bytes]:
        where, args = where_sql(kind, conds, "?")
        sizes_sql = sql.SCAN_SIZES.format(where=where, batch=_SCAN_BATCH)
        docs_sql = sql.SCAN_DOCS.format(where=where)
        last = 0
        while True:
            # keyset pagination keeps each batch short, so the loop is never held for long
            sizes = self.conn.execute(sizes_sql, (*args, last)).fetchall()
            if not sizes:
                return
            upto = scan_window(sizes, _SCAN_BYTES)
            rows = self.conn.execute(docs_sql, (*args, last, upto)).fetchall()
            last = upto
            for (doc,) in rows:
                yield doc
            if len(sizes) < _SCAN_BATCH and upto == sizes[-1][0]:
                return
            await asyncio.sleep(0)

    async def meta(self, key: str) -> str | None:
        row = self.conn.execute(sql.META, (key,)).fetchone()
        return row[0] if row else None

    async def reindex_refs(self, kind: str, extract: Callable[[bytes], Refs], marker: tuple[str, str]) -> int:
        async with self.transaction() as tx:
            assert isinstance(tx, SqliteResourceTx)
            self.conn.execute(sql.KIND_DROP_REFS, (kind,))
            rows = self.conn.execute(sql.KIND_DOCS, (kind,)).fetchall()
            for seq, doc in rows:
                tx._write_refs(kind, seq, extract(doc))
            self.conn.execute(sql.KIND_DROP_COUNTED, (kind,))
            self.conn.execute(sql.KIND_RECOUNT, (kind,))
            self.conn.execute(sql.SET_META, marker)
        return len(rows)

    async def refresh_faces(self, kind: str, render: Callable[[bytes], Shown], marker: tuple[str, str]) -> int:
        done, last = 0, 0
        async with self.transaction():
            while rows := self.conn.execute(sql.KIND_ROWS, (kind, last, _SCAN_BATCH)).fetchall():
                for seq, version, doc in rows:
                    face, shown = render(doc) or (None, None)
                    self.conn.execute(sql.SET_SHOWN, (shown, face, seq, version))
                done, last = done + len(rows), rows[-1][0]
            self.conn.execute(sql.SET_META, marker)
        return done


class SqliteResourceTx:
    conn: sqlite3.Connection

    def _count(self, kind: str, changes: Sequence[tuple[Indexed, int]]) -> None:
        rows = [(kind, facet, value, n) for facet, value, n in counter_changes(changes)]
        if rows:
            self.conn.executemany(sql.COUNT_CHANGE, rows)

    async def get(self, kind: str, id: str) -> Row | None:
        return _get(self.conn, kind, id)

    async def page(
        self, kind: str, conds: Sequence[SqlCond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> list[bytes]:
        return _page(self.conn, kind, conds, order, offset, limit)

    def _write_refs(self, kind: str, seq: int, refs: Refs | None) -> None:
        if refs:
            self.conn.executemany(sql.WRITE_REFS, [(kind, path, value, seq) for path, value in refs])

    def _drop_refs(self, kind: str, seq: int) -> Refs:
        cur = self.conn.execute(sql.DROP_REFS, (kind, seq))
        return tuple((path, value) for path, value in cur.fetchall())

    async def insert(self, kind: str, id: str, idx: Indexed, doc: bytes, shown: Shown = None) -> None:
        face, rendition = shown or (None, None)
        try:
            row = (kind, id, idx.name, idx.status, idx.last_update, idx.type, doc, rendition, face)
            cur = self.conn.execute(sql.INSERT, row)
        except sqlite3.IntegrityError:
            raise Conflict(f"a resource with id {id!r} already exists", code="DUPLICATE_ID") from None
        self._count(kind, [(idx, 1)])
        self._write_refs(kind, cur.lastrowid or 0, idx.refs)

    async def update(self, kind: str, id: str, version: int, idx: Indexed, doc: bytes, shown: Shown = None) -> int:
        old = self.conn.execute(sql.OLD, (kind, id, version)).fetchone()
        if old is None:
            raise StaleVersion(f"{id!r} was changed concurrently; retry")
        face, rendition = shown or (None, None)
        self.conn.execute(sql.UPDATE, (idx.name, idx.status, idx.last_update, idx.type, doc, rendition, face, kind, id))
        seq, old_refs = old[4], None
        if idx.refs is not None:
            old_refs = self._drop_refs(kind, seq)
            self._write_refs(kind, seq, idx.refs)
        self._count(kind, [(Indexed.of_row(old, old_refs), -1), (idx, 1)])  # nothing when nothing moved
        return version + 1

    async def delete(self, kind: str, id: str, version: int | None) -> bool:
        if version is None:
            row = self.conn.execute(sql.DELETE, (kind, id)).fetchone()
        else:
            row = self.conn.execute(sql.DELETE_VERSION, (kind, id, version)).fetchone()
        if row is None:
            return False
        self._count(kind, [(Indexed.of_row(row, self._drop_refs(kind, row[4])), -1)])
        return True

    async def hold(self, kind: str, ids: Sequence[str], holder: str, customer: str) -> set[str]:
        wanted, got = list(dict.fromkeys(ids)), set[str]()
        for start in range(0, len(wanted), 200):  # the primary key refuses a second holder
            part = wanted[start : start + 200]
            args = [v for id in part for v in (kind, id, holder, customer)]
            query = sql.HOLD.format(values=",".join(sql.HOLD_ROW for _ in part))
            got.update(r[0] for r in self.conn.execute(query, args).fetchall())
        return set(wanted) - got

    async def unhold(self, kind: str, ids: Sequence[str]) -> None:
        self.conn.executemany(sql.UNHOLD, [(kind, id) for id in ids])

    async def held(self, kind: str, customer: str) -> int:
        return int(self.conn.execute(sql.HELD, (customer, kind)).fetchone()[0])
