"""The outbox contract (``Outbox`` / ``OutboxTx``), straight against the Store API on every backend:
events fan out to one delivery per hub; a claim leases the head of each hub's queue (per-hub order),
healthy hubs first, up to a limit, and nothing leased until the lease ends; outcomes, redelivery and
its audit; two stores claiming together take disjoint deliveries."""

from __future__ import annotations

import asyncio
import time

import pytest

from tmfstack.errors import Conflict
from tmfstack.store.base import Delivery, HubRow, Store, open_store

pytestmark = pytest.mark.anyio
API = "productCatalog"
LEASE = 30.0


def _hub(id: str) -> HubRow:
    return HubRow(id=id, api=API, callback=f"http://127.0.0.1/{id}", query=None, doc=b"{}", client_id="c1")


async def _setup(store: Store, hubs: list[str], events: int) -> None:
    async with store.transaction() as tx:
        for h in hubs:
            await tx.insert_hub(_hub(h))
    for n in range(events):
        async with store.transaction() as tx:
            await tx.add_event(API, f"e{n}", "CreateEvent", f'{{"n": {n}}}'.encode(), hubs)


def _pairs(claimed: list[Delivery]) -> list[tuple[str, str]]:
    return [(d.hub_id, d.event_id) for d in claimed]


async def test_hubs_are_per_api_and_unique(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_hub(_hub("h1"))
        assert [h.id for h in await tx.hubs(API)] == ["h1"]
        assert await tx.hubs("otherApi") == []
        assert await tx.count_hubs(API, "c1") == 1
        assert await tx.count_hubs(API, "c2") == 0
    with pytest.raises(Conflict):
        async with store.transaction() as tx:
            await tx.insert_hub(_hub("h1"))
    hub = await store.get_hub(API, "h1")
    assert hub is not None and hub.callback == "http://127.0.0.1/h1"


async def test_claim_takes_the_head_of_each_hub_and_keeps_order(store: Store) -> None:
    await _setup(store, ["h1", "h2"], events=3)
    now = time.time() + 1
    first = await store.claim_deliveries("me", now, LEASE, 10)
    assert sorted(_pairs(first)) == [("h1", "e0"), ("h2", "e0")]
    assert all(d.payload == b'{"n": 0}' and d.attempts == 0 for d in first)
    # the heads are leased, and the later deliveries wait behind them
    assert await store.claim_deliveries("other", now, LEASE, 10) == []
    for d in first:
        await store.mark_delivered(d.id, now, 204)
    assert sorted(_pairs(await store.claim_deliveries("me", now, LEASE, 10))) == [("h1", "e1"), ("h2", "e1")]
    delivered = await store.deliveries("delivered", 100)
    assert sorted(_pairs(delivered)) == [("h1", "e0"), ("h2", "e0")]
    assert all(d.attempts == 1 for d in delivered)


async def test_limit_and_lease_expiry(store: Store) -> None:
    await _setup(store, ["h1", "h2", "h3"], events=1)
    now = time.time() + 1
    one = await store.claim_deliveries("me", now, LEASE, 1)
    assert _pairs(one) == [("h1", "e0")]  # the oldest first
    assert len(await store.claim_deliveries("me", now, LEASE, 10)) == 2
    assert await store.claim_deliveries("other", now + LEASE - 1, LEASE, 10) == []
    # a crashed owner's leases end: the same deliveries go to someone else
    again = await store.claim_deliveries("other", now + LEASE + 1, LEASE, 10)
    assert sorted(_pairs(again)) == [("h1", "e0"), ("h2", "e0"), ("h3", "e0")]


async def test_healthy_hubs_first_and_the_failing_filter(store: Store) -> None:
    await _setup(store, ["sick", "well"], events=2)
    now = time.time() + 1
    heads = {d.hub_id: d for d in await store.claim_deliveries("me", now, LEASE, 10)}
    await store.mark_failed(heads["sick"].id, now, now, "HTTP 500", dead=False)  # due again at once
    await store.mark_delivered(heads["well"].id, now, 200)
    # the sick hub's head is older, but the healthy hub's goes first
    got = await store.claim_deliveries("me", now, LEASE, 1)
    assert _pairs(got) == [("well", "e1")] and got[0].hub_failures == 0
    got = await store.claim_deliveries("me", now, LEASE, 1)
    assert _pairs(got) == [("sick", "e0")]
    assert got[0].attempts == 1 and got[0].last_error == "HTTP 500" and got[0].hub_failures == 1


async def test_failing_selects_by_hub_health(store: Store) -> None:
    await _setup(store, ["sick", "well"], events=2)
    now = time.time() + 1
    heads = {d.hub_id: d for d in await store.claim_deliveries("me", now, LEASE, 10)}
    await store.mark_failed(heads["sick"].id, now, now, "timeout", dead=False)
    await store.mark_failed(heads["well"].id, now, now, "timeout", dead=False)
    await store.mark_delivered(heads["well"].id, now, 200)  # a success makes it healthy again
    assert _pairs(await store.claim_deliveries("me", now, LEASE, 10, failing=True)) == [("sick", "e0")]
    assert _pairs(await store.claim_deliveries("me", now, LEASE, 10, failing=False)) == [("well", "e1")]


async def test_not_due_is_not_claimed(store: Store) -> None:
    await _setup(store, ["h1"], events=1)
    now = time.time() + 1
    (d,) = await store.claim_deliveries("me", now, LEASE, 10)
    await store.mark_failed(d.id, now, now + 100, "HTTP 503", dead=False)
    assert await store.next_due() == pytest.approx(now + 100)
    assert await store.claim_deliveries("me", now + 99, LEASE, 10) == []
    assert [x.id for x in await store.claim_deliveries("me", now + 100, LEASE, 10)] == [d.id]


async def test_dead_redeliver_and_audit(store: Store) -> None:
    await _setup(store, ["h1"], events=2)
    now = time.time() + 1
    (d,) = await store.claim_deliveries("me", now, LEASE, 10)
    assert await store.redeliver(d.id, now, "op", "too early") is False  # pending: nothing to redeliver
    await store.mark_failed(d.id, now, now, "HTTP 410", dead=True)
    dead = await store.deliveries("dead", 10)
    assert [(x.id, x.status, x.last_error) for x in dead] == [(d.id, "dead", "HTTP 410")]
    # a dead head no longer holds the hub's queue
    assert _pairs(await store.claim_deliveries("me", now, LEASE, 10)) == [("h1", "e1")]
    assert await store.redeliver(d.id, now + 5, "operator-1", "fixed the listener") is True
    (back,) = [x for x in await store.deliveries(None, 10) if x.id == d.id]
    assert back.status == "pending" and back.attempts == 0
    entries = await store.audit(10)
    assert [(e.delivery_id, e.actor, e.action, e.reason) for e in entries] == [
        (d.id, "operator-1", "redeliver", "fixed the listener")
    ]


async def test_deleting_a_hub_drops_its_undelivered_work(store: Store) -> None:
    await _setup(store, ["h1", "h2"], events=2)
    now = time.time() + 1
    for x in await store.claim_deliveries("me", now, LEASE, 10):
        await store.mark_delivered(x.id, now, 200)
    async with store.transaction() as tx:
        assert await tx.delete_hub(API, "h1") is True
        assert await tx.delete_hub(API, "h1") is False
    assert await store.get_hub(API, "h1") is None
    assert _pairs(await store.claim_deliveries("me", now, LEASE, 10)) == [("h2", "e1")]
    assert len(await store.deliveries("delivered", 10)) == 1  # h1's history went with its hub


def _claim_all(url: str, owner: str, now: float) -> list[int]:
    """Another process, as near as a test gets: its own store (connection, pool) on its own loop and
    thread, claiming a few at a time until nothing is left."""

    async def claim() -> list[int]:
        store = open_store(url)
        await store.open()
        try:
            ids: list[int] = []
            while claimed := await store.claim_deliveries(owner, now, LEASE, 2):
                ids += [d.id for d in claimed]
            return ids
        finally:
            await store.close()

    return asyncio.run(claim())


async def test_stores_claiming_together_take_disjoint_deliveries(store: Store, store_url: str) -> None:
    await _setup(store, [f"h{n:02}" for n in range(24)], events=1)
    now = time.time() + 1
    results = await asyncio.gather(*(asyncio.to_thread(_claim_all, store_url, f"owner{n}", now) for n in range(4)))
    ids = [id for claimed in results for id in claimed]
    assert len(ids) == len(set(ids)) == 24
