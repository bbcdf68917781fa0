"""SQLite side of parked tasks: the operator's listing and history (``SqliteTaskAdmin``, mixed
into ``SqliteStore``) and parking / un-parking inside a unit (``SqliteTaskTx``, into ``SqliteTx``)."""

from __future__ import annotations

import sqlite3

from .base import Task, TaskAudit

TASK_COLUMNS = "id, queue, key, gen, attempts, last_error, due, parked"
_AUDIT = "queue, key, at, actor, action, reason, error"


class SqliteTaskAdmin:
    conn: sqlite3.Connection

    async def tasks(
        self, queue: str | None = None, *, key: str | None = None, parked: bool | None = None, limit: int = 1000
    ) -> list[Task]:
        where, args = [], []
        if queue:
            where.append("queue=?")
            args.append(queue)
        if key:
            where.append("key=?")
            args.append(key)
        if parked is not None:
            where.append("parked IS NOT NULL" if parked else "parked IS NULL")
        sql = f"SELECT {TASK_COLUMNS} FROM task" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.conn.execute(sql + " ORDER BY id LIMIT ?", (*args, limit))
        return [Task(*r) for r in rows]

    async def task_history(self, queue: str, key: str, limit: int = 100) -> list[TaskAudit]:
        rows = self.conn.execute(
            f"SELECT {_AUDIT} FROM task_audit WHERE queue=? AND key=? ORDER BY id DESC LIMIT ?", (queue, key, limit)
        )
        return [TaskAudit(*r) for r in rows]


class SqliteTaskTx:
    conn: sqlite3.Connection

    async def park_task(self, task: Task, now: float, error: str) -> None:
        self.conn.execute(
            "UPDATE task SET parked=?, last_error=?, lease_owner=NULL, lease_until=NULL WHERE id=?",
            (now, error, task.id),
        )
        self.conn.execute(
            f"INSERT INTO task_audit({_AUDIT}) VALUES(?,?,?,?,?,?,?)",
            (task.queue, task.key, now, "task runner", "parked", f"failed {task.attempts} times", error),
        )

    async def unpark_task(self, queue: str, key: str, now: float, actor: str, reason: str) -> bool:
        cur = self.conn.execute(
            "UPDATE task SET parked=NULL, attempts=0 WHERE queue=? AND key=? AND parked IS NOT NULL", (queue, key)
        )
        if cur.rowcount:
            self.conn.execute(
                f"INSERT INTO task_audit({_AUDIT}) VALUES(?,?,?,?,?,?,NULL)", (queue, key, now, actor, "retry", reason)
            )
        return cur.rowcount > 0
