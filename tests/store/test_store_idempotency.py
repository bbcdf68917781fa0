"""The idempotency-record contract (``IdempotencyTx``), straight against the Store API on every
backend: a key is taken once, an expired record is as if absent and replaced, a taken key leaves
the transaction usable, pruning deletes only expired records and at most ``limit``."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tmfstack.store.base import IdempotencyRow, Store

pytestmark = pytest.mark.anyio
ROW = IdempotencyRow("client-a", "/tmf-api/x/v4/thing", "k1", "f" * 64, 201, "http://h/thing/1", '"1"', b"{}", 0.0)


async def test_a_key_is_taken_once_and_read_back(store: Store) -> None:
    now = time.time()
    row = replace(ROW, created=now, body=b'{"id":"1"}')
    async with store.transaction() as tx:
        assert await tx.idempotent_get(row.client_id, row.path, row.key, now - 10) is None
        assert await tx.idempotent_put(row, now - 10)
    async with store.transaction() as tx:
        assert await tx.idempotent_get(row.client_id, row.path, row.key, now - 10) == row
        # taken: nothing written, and the transaction goes on (PostgreSQL: not aborted)
        assert not await tx.idempotent_put(replace(row, fingerprint="0" * 64), now - 10)
        assert await tx.idempotent_get(row.client_id, row.path, row.key, now - 10) == row
        # another client, another path: other keys
        assert await tx.idempotent_put(replace(row, client_id="client-b"), now - 10)
        assert await tx.idempotent_put(replace(row, path="/tmf-api/x/v4/other"), now - 10)
    async with store.transaction() as tx:
        found = await tx.idempotent_get("client-b", row.path, row.key, now - 10)
        assert found is not None and found.client_id == "client-b"


async def test_an_expired_record_is_absent_and_replaced(store: Store) -> None:
    now = time.time()
    old = replace(ROW, created=now - 100, location=None, etag=None)
    async with store.transaction() as tx:
        assert await tx.idempotent_put(old, now - 1000)
    async with store.transaction() as tx:
        assert await tx.idempotent_get(old.client_id, old.path, old.key, now - 1000) == old
        assert await tx.idempotent_get(old.client_id, old.path, old.key, now - 10) is None
        fresh = replace(old, created=now, fingerprint="1" * 64, status=202)
        assert await tx.idempotent_put(fresh, now - 10)
        assert await tx.idempotent_get(old.client_id, old.path, old.key, now - 10) == fresh


async def test_a_rolled_back_record_frees_the_key(store: Store) -> None:
    now = time.time()
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            assert await tx.idempotent_put(replace(ROW, created=now), now - 10)
            raise RuntimeError("the creation failed")
    async with store.transaction() as tx:
        assert await tx.idempotent_get(ROW.client_id, ROW.path, ROW.key, now - 10) is None
        assert await tx.idempotent_put(replace(ROW, created=now), now - 10)


async def test_prune_deletes_expired_records_only_up_to_the_limit(store: Store) -> None:
    now = time.time()
    async with store.transaction() as tx:
        for n in range(5):
            assert await tx.idempotent_put(replace(ROW, key=f"old-{n}", created=now - 100), now - 1000)
        assert await tx.idempotent_put(replace(ROW, key="live", created=now), now - 1000)
    async with store.transaction() as tx:
        await tx.idempotent_prune(now - 10, 3)
    async with store.transaction() as tx:
        left = [n for n in range(5) if await tx.idempotent_get(ROW.client_id, ROW.path, f"old-{n}", 0) is not None]
        assert len(left) == 2
        await tx.idempotent_prune(now - 10, 100)
        assert all([await tx.idempotent_get(ROW.client_id, ROW.path, f"old-{n}", 0) is None for n in range(5)])
        assert await tx.idempotent_get(ROW.client_id, ROW.path, "live", now - 10) is not None
