"""The resource-records contract (``Resources`` / ``ResourceTx``), straight against the Store API on
every backend: compare-and-set versions, pages and exact counts over the indexed columns and
reference paths, holds, and a unit that fails leaving nothing behind."""

from __future__ import annotations

import json

import pytest

from tests.store.store_backends import doc, idx
from tmfstack.errors import Conflict, StaleVersion
from tmfstack.store.base import REF, SqlCond, Store

pytestmark = pytest.mark.anyio
KIND = "productOffering"


async def _seed(store: Store) -> None:
    """Five documents: names a..e, statuses cycling, a partner reference on some."""
    rows = [
        ("1", "a", "active", "T1", (("@partner", "p1"), ("relatedParty.id", "x"))),
        ("2", "b", "retired", "T2", (("@partner", "p1"),)),
        ("3", "c", "active", "T1", (("@partner", "p2"), ("relatedParty.id", "x"))),
        ("4", "d", None, "T2", ()),
        ("5", "e", "active", None, (("relatedParty.id", "y"),)),
    ]
    async with store.transaction() as tx:
        for id, name, status, type, refs in rows:
            await tx.insert(KIND, id, idx(name, status, type, refs=refs), doc(id, name=name))


def _ids(docs: list[bytes]) -> list[str]:
    return [json.loads(d)["id"] for d in docs]


async def test_insert_get_and_duplicate_id(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert(KIND, "x1", idx("one", "active"), doc("x1"))
    row = await store.get(KIND, "x1")
    assert row is not None and row.version == 1 and json.loads(row.doc) == {"id": "x1"}
    assert await store.get(KIND, "missing") is None
    assert await store.get("otherKind", "x1") is None  # ids are per kind
    with pytest.raises(Conflict):
        async with store.transaction() as tx:
            await tx.insert(KIND, "x1", idx("again"), doc("x1"))
    assert (await store.get(KIND, "x1")).doc == doc("x1")  # type: ignore[union-attr]


async def test_update_is_a_compare_and_set_on_version(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert(KIND, "v", idx("v", "draft"), doc("v", n=1))
    async with store.transaction() as tx:
        assert await tx.update(KIND, "v", 1, idx("v", "active"), doc("v", n=2)) == 2
    with pytest.raises(StaleVersion):
        async with store.transaction() as tx:
            await tx.update(KIND, "v", 1, idx("v", "retired"), doc("v", n=3))
    row = await store.get(KIND, "v")
    assert row is not None and row.version == 2 and json.loads(row.doc)["n"] == 2
    # the counters followed the status change, the refused one moved nothing
    assert await store.count(KIND, [SqlCond("status", "eq", ("active",))]) == 1
    assert await store.count(KIND, [SqlCond("status", "eq", ("draft",))]) == 0
    assert await store.count(KIND, [SqlCond("status", "eq", ("retired",))]) == 0


async def test_delete_with_and_without_version(store: Store) -> None:
    await _seed(store)
    async with store.transaction() as tx:
        assert await tx.delete(KIND, "1", 7) is False  # wrong version: kept
        assert await tx.delete(KIND, "1", 1) is True
        assert await tx.delete(KIND, "2", None) is True
        assert await tx.delete(KIND, "nope", None) is False
    assert await store.get(KIND, "1") is None and await store.get(KIND, "2") is None
    assert await store.count(KIND, []) == 3
    assert await store.count(KIND, [SqlCond(REF + "@partner", "eq", ("p1",))]) == 0
    assert await store.count(KIND, [SqlCond(REF + "relatedParty.id", "eq", ("x",))]) == 1


async def test_page_filters_orders_and_slices(store: Store) -> None:
    await _seed(store)
    active = [SqlCond("status", "eq", ("active",))]
    assert _ids(await store.page(KIND, active, [], 0, 10)) == ["1", "3", "5"]  # insertion order
    assert _ids(await store.page(KIND, active, [("name", True)], 0, 10)) == ["5", "3", "1"]
    assert _ids(await store.page(KIND, active, [("name", True)], 1, 1)) == ["3"]
    # ne leaves out missing values; gt compares text
    assert _ids(await store.page(KIND, [SqlCond("status", "ne", ("active",))], [], 0, 10)) == ["2"]
    assert _ids(await store.page(KIND, [SqlCond("name", "gt", ("c",))], [], 0, 10)) == ["4", "5"]
    assert _ids(await store.page(KIND, [SqlCond("name", "lte", ("b",))], [], 0, 10)) == ["1", "2"]
    # missing values sort first ascending
    assert _ids(await store.page(KIND, [], [("status", False)], 0, 2)) == ["4", "1"]
    # a reference path, alone (walks the index) and with another condition
    by_ref = [SqlCond(REF + "relatedParty.id", "eq", ("x",))]
    assert _ids(await store.page(KIND, by_ref, [], 0, 10)) == ["1", "3"]
    assert _ids(await store.page(KIND, [*by_ref, SqlCond("name", "eq", ("c",))], [], 0, 10)) == ["3"]
    assert _ids(await store.page(KIND, by_ref, [], 1, 10)) == ["3"]
    assert [json.loads(d)["id"] async for d in store.scan(KIND, active)] == ["1", "3", "5"]


async def test_count_with_and_without_counters(store: Store) -> None:
    await _seed(store)
    assert await store.count(KIND, []) == 5
    assert await store.count("otherKind", []) == 0
    assert await store.count(KIND, [SqlCond("status", "eq", ("active",))]) == 3
    assert await store.count(KIND, [SqlCond("status", "eq", ("active", "retired"))]) == 4
    assert await store.count(KIND, [SqlCond("type", "eq", ("T2",))]) == 2
    assert await store.count(KIND, [SqlCond(REF + "@partner", "eq", ("p1",))]) == 2
    assert await store.count(KIND, [SqlCond(REF + "relatedParty.id", "eq", ("x", "y"))]) == 3
    both = [SqlCond("status", "eq", ("active",)), SqlCond("type", "eq", ("T1",))]
    assert await store.count(KIND, both) == 2
    assert await store.count(KIND, [SqlCond("name", "gte", ("d",))]) == 2


async def test_changed_references_move_their_counters(store: Store) -> None:
    await _seed(store)
    async with store.transaction() as tx:
        await tx.update(KIND, "1", 1, idx("a", "active", "T1", refs=(("@partner", "p2"),)), doc("1"))
        await tx.update(KIND, "3", 1, idx("c", "active", "T1", refs=None), doc("3"))  # None: refs unchanged
    assert await store.count(KIND, [SqlCond(REF + "@partner", "eq", ("p1",))]) == 1
    assert await store.count(KIND, [SqlCond(REF + "@partner", "eq", ("p2",))]) == 2
    assert await store.count(KIND, [SqlCond(REF + "relatedParty.id", "eq", ("x",))]) == 1


async def test_a_failed_unit_leaves_nothing(store: Store) -> None:
    await _seed(store)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.insert(KIND, "new", idx("n", "active"), doc("new"))
            await tx.delete(KIND, "1", None)
            # the unit sees its own writes
            assert "new" in _ids(await tx.page(KIND, [SqlCond("status", "eq", ("active",))], [], 0, 10))
            assert await tx.get(KIND, "1") is None
            raise RuntimeError("boom")
    assert await store.get(KIND, "new") is None and await store.get(KIND, "1") is not None
    assert await store.count(KIND, []) == 5
    assert await store.count(KIND, [SqlCond("status", "eq", ("active",))]) == 3


async def test_hold_is_one_holder_per_member(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.hold("msisdn", ["m1", "m2", "m2"], "order-1", "c1") == set()
        assert await tx.hold("msisdn", ["m2", "m3"], "order-2", "c2") == {"m2"}
        assert await tx.held("msisdn", "c1") == 2
        assert await tx.held("msisdn", "c2") == 1
        await tx.unhold("msisdn", ["m1", "m2"])
        assert await tx.held("msisdn", "c1") == 0
        assert await tx.hold("msisdn", ["m2"], "order-2", "c2") == set()
        assert await tx.held("msisdn", "c2") == 2


async def test_meta_and_reindex(store: Store) -> None:
    await _seed(store)
    assert await store.meta("refs:test") is None
    # the index rebuilt from the documents: each now references its own name
    n = await store.reindex_refs(KIND, lambda d: (("@name", json.loads(d)["name"]),), ("refs:test", "v2"))
    assert n == 5
    assert await store.meta("refs:test") == "v2"
    assert await store.count(KIND, [SqlCond(REF + "@name", "eq", ("c",))]) == 1
    assert await store.count(KIND, [SqlCond(REF + "@partner", "eq", ("p1",))]) == 0
    assert await store.meta_setdefault("k", "first") == "first"
    assert await store.meta_setdefault("k", "second") == "first"
