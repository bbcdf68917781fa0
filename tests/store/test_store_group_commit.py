"""SQLite's group commit (``SqliteStore.transaction``): the units of one loop tick are savepoints of one
transaction and share its COMMIT; each unit returns only once that COMMIT is done; a unit that fails
rolls back alone."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.store.store_backends import doc, idx
from tmfstack.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio
KIND = "resource"


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'group.db'}")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def _commits(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    store.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def _outside(store: SqliteStore) -> list[str]:
    """The ids another connection sees: only what is committed."""
    with sqlite3.connect(store.path) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM resource ORDER BY id")]


async def _create(store: SqliteStore, id: str, fail: bool = False) -> list[str]:
    async with store.transaction() as tx:
        await tx.insert(KIND, id, idx(id, "active"), doc(id))
        if fail:
            raise RuntimeError(id)
    return _outside(store)  # right after the unit returned


async def test_units_of_one_tick_share_one_commit(sqlite_store: SqliteStore) -> None:
    commits = _commits(sqlite_store)
    seen = await asyncio.gather(*(_create(sqlite_store, f"r{n}") for n in range(10)))
    assert len(commits) == 1
    # every unit returned after the shared commit: each saw all ten from outside
    assert all(ids == [f"r{n}" for n in range(10)] for ids in seen)
    await _create(sqlite_store, "later")  # a later tick: its own commit
    assert len(commits) == 2


async def test_a_failed_unit_rolls_back_alone(sqlite_store: SqliteStore) -> None:
    commits = _commits(sqlite_store)
    results = await asyncio.gather(
        _create(sqlite_store, "a"),
        _create(sqlite_store, "b", fail=True),
        _create(sqlite_store, "c"),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    assert _outside(sqlite_store) == ["a", "c"] and len(commits) == 1
    assert await sqlite_store.count(KIND, []) == 2  # its counter change went with it


async def test_a_unit_awaiting_inside_delays_the_commit(sqlite_store: SqliteStore) -> None:
    """A unit that awaits half-way holds the write lock; the tick's commit waits for it rather than
    committing half a unit."""
    release = asyncio.Event()

    async def slow() -> None:
        async with sqlite_store.transaction() as tx:
            await tx.insert(KIND, "slow1", idx("s"), doc("slow1"))
            await release.wait()
            await tx.insert(KIND, "slow2", idx("s"), doc("slow2"))

    task = asyncio.create_task(slow())
    for _ in range(5):
        await asyncio.sleep(0)
    assert _outside(sqlite_store) == []  # nothing of the half-done unit is committed
    release.set()
    await task
    assert _outside(sqlite_store) == ["slow1", "slow2"]
