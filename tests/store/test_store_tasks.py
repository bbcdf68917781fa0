"""The task-queue contract (``TaskQueue`` / ``TaskTx``), straight against the Store API on every
backend: schedule, claim with a lease, finish (only the claimed generation), fail and retry later,
park and un-park with their history."""

from __future__ import annotations

import time

import pytest

from tmfstack.store.base import Store, Task

pytestmark = pytest.mark.anyio
LEASE = 30.0


async def _schedule(store: Store, key: str, due: float, queue: str = "order") -> None:
    async with store.transaction() as tx:
        await tx.schedule(queue, key, due)


async def test_schedule_claim_finish(store: Store) -> None:
    now = time.time()
    await _schedule(store, "o1", now)
    await _schedule(store, "o2", now + 100)  # not due yet
    (task,) = await store.claim_tasks("me", now, LEASE, 10)
    assert (task.queue, task.key, task.attempts, task.gen) == ("order", "o1", 1, 1)
    assert await store.claim_tasks("other", now, LEASE, 10) == []  # leased
    async with store.transaction() as tx:
        await tx.finish_task(task)
    assert [t.key for t in await store.tasks()] == ["o2"]
    assert await store.next_task_due() == pytest.approx(now + 100)


async def test_claim_is_earliest_first_and_limited(store: Store) -> None:
    now = time.time()
    for key, due in (("late", now - 1), ("early", now - 9), ("mid", now - 5)):
        await _schedule(store, key, due)
    assert {t.key for t in await store.claim_tasks("me", now, LEASE, 2)} == {"early", "mid"}
    assert [t.key for t in await store.claim_tasks("me", now, LEASE, 2)] == ["late"]
    # a crashed owner's lease ends, and the attempt is counted again
    again = await store.claim_tasks("other", now + LEASE + 1, LEASE, 10)
    assert sorted(t.key for t in again) == ["early", "late", "mid"] and {t.attempts for t in again} == {2}


async def test_rescheduling_bumps_the_generation_so_finishing_keeps_the_task(store: Store) -> None:
    now = time.time()
    await _schedule(store, "o1", now + 50)
    await _schedule(store, "o1", now)  # brought forward
    await _schedule(store, "o1", now + 80)  # never pushed back
    (task,) = await store.claim_tasks("me", now, LEASE, 10)
    assert task.gen == 3  # 1, then bumped by each schedule
    await _schedule(store, "o1", now)  # new work while it runs
    async with store.transaction() as tx:
        await tx.finish_task(task)
    # kept for the new work, and released: claimable at once
    (again,) = await store.claim_tasks("me", now, LEASE, 10)
    assert (again.id, again.gen) == (task.id, 4)
    async with store.transaction() as tx:
        await tx.finish_task(again)
    assert await store.tasks() == []
    assert await store.next_task_due() is None


async def test_fail_releases_until_next_due(store: Store) -> None:
    now = time.time()
    await _schedule(store, "o1", now)
    (task,) = await store.claim_tasks("me", now, LEASE, 10)
    await store.fail_task(task, now + 60, "downstream said 503")
    assert await store.next_task_due() == pytest.approx(now + 60)
    assert await store.claim_tasks("me", now + 59, LEASE, 10) == []
    (again,) = await store.claim_tasks("me", now + 60, LEASE, 10)
    assert again.attempts == 2 and again.last_error == "downstream said 503"
    # a lost race is not the task's fault: the attempt is given back
    await store.fail_task(again, now + 61, "lost a race", counted=False)
    (third,) = await store.claim_tasks("me", now + 61, LEASE, 10)
    assert third.attempts == 2


async def _park(store: Store, task: Task, now: float) -> None:
    async with store.transaction() as tx:
        await tx.park_task(task, now, "gave up")


async def test_park_and_unpark_with_history(store: Store) -> None:
    now = time.time()
    await _schedule(store, "o1", now)
    await _schedule(store, "o2", now, queue="start")
    (task,) = [t for t in await store.claim_tasks("runner", now, LEASE, 10) if t.key == "o1"]
    await _park(store, task, now)
    # the leases ended: o2 is claimed again, parked o1 is not
    assert [t.key for t in await store.claim_tasks("runner", now + LEASE + 1, LEASE, 10)] == ["o2"]
    (parked,) = await store.tasks(parked=True)
    assert (parked.key, parked.parked, parked.last_error) == ("o1", pytest.approx(now), "gave up")
    assert [t.key for t in await store.tasks("start", parked=False)] == ["o2"]
    assert await store.tasks("start", parked=True) == []
    assert [t.key for t in await store.tasks(key="o1")] == ["o1"]
    async with store.transaction() as tx:
        assert await tx.unpark_task("order", "o2", now, "op", "not parked") is False
        assert await tx.unpark_task("order", "o1", now + 1, "operator-1", "listener fixed") is True
        await tx.schedule("order", "o1", now + 1)
    (back,) = await store.claim_tasks("runner", now + 1, LEASE, 10)
    assert (back.key, back.attempts) == ("o1", 1)
    history = await store.task_history("order", "o1")
    assert [(h.actor, h.action, h.reason, h.error) for h in history] == [
        ("operator-1", "retry", "listener fixed", None),
        ("task runner", "parked", "failed 1 times", "gave up"),
    ]


async def test_new_work_rearms_a_parked_task(store: Store) -> None:
    now = time.time()
    await _schedule(store, "o1", now)
    (task,) = await store.claim_tasks("runner", now, LEASE, 10)
    await _park(store, task, now)
    await _schedule(store, "o1", now + 1)
    (again,) = await store.claim_tasks("runner", now + 1, LEASE, 10)
    assert again.attempts == 1 and (await store.tasks(parked=True)) == []
