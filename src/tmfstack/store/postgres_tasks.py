"""PostgreSQL side of parked tasks: the operator's listing and history (``PostgresTaskAdmin``, mixed
into ``PostgresStore``) and parking / un-parking inside a unit (``PostgresTaskTx``, into ``PostgresTx``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from .base import Task, TaskAudit
from .pg_errors import translated

TASK_COLUMNS = "id, queue, key, gen, attempts, last_error, due, parked"
_AUDIT = "queue, key, at, actor, action, reason, error"


class PostgresTaskAdmin:
    @property
    def pool(self) -> asyncpg.Pool:
        raise NotImplementedError  # provided by PostgresStore

    async def tasks(
        self, queue: str | None = None, *, key: str | None = None, parked: bool | None = None, limit: int = 1000
    ) -> list[Task]:
        where: list[str] = []
        args: list[Any] = []
        if queue:
            args.append(queue)
            where.append(f"queue=${len(args)}")
        if key:
            args.append(key)
            where.append(f"key=${len(args)}")
        if parked is not None:
            where.append("parked IS NOT NULL" if parked else "parked IS NULL")
        args.append(limit)
        sql = f"SELECT {TASK_COLUMNS} FROM task" + (" WHERE " + " AND ".join(where) if where else "")
        with translated():
            rows = await self.pool.fetch(sql + f" ORDER BY id LIMIT ${len(args)}", *args)
        return [Task(*r) for r in rows]

    async def task_history(self, queue: str, key: str, limit: int = 100) -> list[TaskAudit]:
        with translated():
            rows = await self.pool.fetch(
                f"SELECT {_AUDIT} FROM task_audit WHERE queue=$1 AND key=$2 ORDER BY id DESC LIMIT $3",
                queue,
                key,
                limit,
            )
        return [TaskAudit(*r) for r in rows]


class PostgresTaskTx:
    conn: Any  #: asyncpg.Connection

    async def park_task(self, task: Task, now: float, error: str) -> None:
        with translated():
            await self.conn.execute(
                "UPDATE task SET parked=$2, last_error=$3, lease_owner=NULL, lease_until=NULL WHERE id=$1",
                task.id,
                now,
                error,
            )
            await self.conn.execute(
                f"INSERT INTO task_audit({_AUDIT}) VALUES($1, $2, $3, 'task runner', 'parked', $4, $5)",
                task.queue,
                task.key,
                now,
                f"failed {task.attempts} times",
                error,
            )

    async def unpark_task(self, queue: str, key: str, now: float, actor: str, reason: str) -> bool:
        with translated():
            found = await self.conn.fetchval(
                "UPDATE task SET parked=NULL, attempts=0 WHERE queue=$1 AND key=$2 AND parked IS NOT NULL RETURNING id",
                queue,
                key,
            )
            if found is not None:
                await self.conn.execute(
                    f"INSERT INTO task_audit({_AUDIT}) VALUES($1, $2, $3, $4, 'retry', $5, NULL)",
                    queue,
                    key,
                    now,
                    actor,
                    reason,
                )
        return found is not None
