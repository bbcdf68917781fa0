"""Durable tasks (``engine/tasks.py``): the retry policy (doubling delays, then parked), what a
queue's owner hears, and a handler that runs outside any unit, over a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tmfstack.engine.core import Engine
from tmfstack.engine.declaration import ApiDecl, ResourceDecl
from tmfstack.engine.tasks import IoTaskDecl, RetryPolicy, TaskDecl, TaskRunner, retry_parked
from tmfstack.engine.unit import Unit
from tmfstack.settings import Settings
from tmfstack.store.base import Task, open_store

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_delays_double_from_the_base_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base=0.5, cap=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_the_last_allowed_failure_parks() -> None:
    policy = RetryPolicy(max_attempts=3, base=1.0, cap=60.0)
    assert policy.delay(2) == 2.0
    assert policy.delay(3) is None
    assert RetryPolicy(max_attempts=1).delay(1) is None


def test_the_runner_takes_its_policy_from_the_settings() -> None:
    settings = Settings(task_max_attempts=4, task_retry_base=0.25, task_retry_max=2.0)
    engine = Engine(open_store("sqlite:///:memory:"), [], settings=settings)
    assert TaskRunner(engine).retry == RetryPolicy(4, 0.25, 2.0)


class Owner:
    """A queue whose handler writes a document, then fails until told otherwise."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str, str]] = []
        self.failing = True

    async def step(self, engine: Engine, unit: Unit, key: str) -> None:
        svc = engine.services["/tmf-api/party/v4"]["individual"]
        await svc.create({"id": key, "givenName": "A", "familyName": "B"}, keep_id=True, unit=unit)
        if self.failing:
            raise RuntimeError("downstream\nis down")

    async def parked(self, engine: Engine, unit: Unit, key: str, text: str) -> None:
        self.heard.append(("parked", key, text))

    async def retried(self, engine: Engine, unit: Unit, key: str, text: str) -> None:
        self.heard.append(("retried", key, text))


OUTSIDE: list[str] = []


async def outside(engine: Engine, task: Task) -> None:
    OUTSIDE.append(task.key)  # e.g. a network call, in no transaction
    async with engine.unit() as unit:
        await unit.tx.finish_task(task)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Engine, Owner]]:
    owner = Owner()
    api = ApiDecl.build(
        "TMF632-Party-v4.0.0.swagger.json",
        resources=[ResourceDecl("individual")],
        tasks={
            "step": TaskDecl(owner.step, on_parked=owner.parked, on_retried=owner.retried),
            "io": IoTaskDecl(outside),
        },
    )
    settings = Settings(task_max_attempts=3, task_retry_base=0.0, task_retry_max=0.0)
    engine = Engine(open_store(f"sqlite:///{tmp_path}/t.db"), [api], settings=settings)
    await engine.open()
    try:
        yield engine, owner
    finally:
        await engine.drain()
        await engine.store.close()


async def schedule(engine: Engine, queue: str, key: str) -> None:
    async with engine.unit() as unit:
        await unit.schedule(queue, key, time.time())


async def test_a_failing_step_rolls_back_is_retried_then_parked_and_its_owner_told(
    setup: tuple[Engine, Owner],
) -> None:
    engine, owner = setup
    runner = TaskRunner(engine)
    await schedule(engine, "step", "k1")
    for attempt in range(1, 4):
        assert await runner.run_once() == 1, f"attempt {attempt} was not due"
        # the step's write rolled back with it
        assert await engine.store.get("tmf632.individual", "k1") is None
    assert await runner.run_once() == 0  # parked: claimed no more
    [task] = await engine.store.tasks("step", parked=True)
    assert task.attempts == 3
    assert task.last_error == "RuntimeError: downstream"  # one short line
    assert owner.heard == [("parked", "k1", "RuntimeError: downstream")]

    owner.failing = False
    assert await retry_parked(engine, "step", "k1", "ops", "fixed downstream")
    assert owner.heard[-1] == ("retried", "k1", "retried by ops: fixed downstream")
    assert await runner.run_once() == 1
    assert await engine.store.get("tmf632.individual", "k1") is not None
    assert await engine.store.tasks("step") == []


async def test_a_handler_outside_a_unit_gets_the_task_and_finishes_it(setup: tuple[Engine, Owner]) -> None:
    engine, _ = setup
    OUTSIDE.clear()
    await schedule(engine, "io", "k2")
    assert await TaskRunner(engine).run_once() == 1
    assert OUTSIDE == ["k2"]
    assert await engine.store.tasks("io") == []
