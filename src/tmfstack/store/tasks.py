"""The durable task queue as both backends run it, on their dialect's statements.

Claims lease due, unleased, unparked tasks, earliest first (on PostgreSQL ``FOR UPDATE SKIP LOCKED``
keeps processes claiming together on disjoint tasks; on SQLite there is one writer at a time).
A task's generation, bumped by every ``schedule``, lets its runner finish it only when nobody
re-scheduled it meanwhile. A task failing too often is parked, and un-parked by an operator; both
are recorded in its history.
"""

from __future__ import annotations

from .base import Task, TaskAudit
from .queries import StoreQueries, TxQueries


class SharedTaskQueue(StoreQueries):
    async def claim_tasks(self, owner: str, now: float, lease: float, limit: int) -> list[Task]:
        rows = await self._commit(self.sql.CLAIM_TASKS, owner, now + lease, now, limit)
        return sorted((Task(*r) for r in rows), key=lambda t: t.id)

    async def fail_task(self, task: Task, next_due: float, error: str, *, counted: bool = True) -> None:
        await self._commit(self.sql.FAIL_TASK, task.id, next_due, error[:1000], 0 if counted else 1)

    async def next_task_due(self) -> float | None:
        rows = await self._rows(self.sql.NEXT_TASK_DUE)
        return rows[0][0] if rows else None

    async def tasks(
        self, queue: str | None = None, *, key: str | None = None, parked: bool | None = None, limit: int = 1000
    ) -> list[Task]:
        sql, args = self.sql.tasks_query(queue, key, parked, limit)
        return [Task(*r) for r in await self._rows(sql, *args)]

    async def task_history(self, queue: str, key: str, limit: int = 100) -> list[TaskAudit]:
        return [TaskAudit(*r) for r in await self._rows(self.sql.TASK_HISTORY, queue, key, limit)]


class SharedTaskTx(TxQueries):
    async def schedule(self, queue: str, key: str, due: float) -> None:
        await self._rows(self.sql.SCHEDULE, queue, key, due)

    async def finish_task(self, task: Task) -> None:
        if not await self._rows(self.sql.FINISH_TASK, task.id, task.gen):
            await self._rows(self.sql.RELEASE_TASK, task.id)

    async def park_task(self, task: Task, now: float, error: str) -> None:
        await self._rows(self.sql.PARK_TASK, task.id, now, error)
        await self._rows(
            self.sql.TASK_AUDIT,
            task.queue,
            task.key,
            now,
            "task runner",
            "parked",
            f"failed {task.attempts} times",
            error,
        )

    async def unpark_task(self, queue: str, key: str, now: float, actor: str, reason: str) -> bool:
        if not await self._rows(self.sql.UNPARK_TASK, queue, key):
            return False
        await self._rows(self.sql.TASK_AUDIT, queue, key, now, actor, "retry", reason, None)
        return True
