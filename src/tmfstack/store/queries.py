"""How code shared by the backends runs a dialect's named statements (``sql_sqlite`` / ``sql_postgres``).

A backend's store provides ``_rows`` (a read) and ``_commit`` (one writing statement that is a unit of
work of its own: inside a group-committed unit on SQLite, autocommitted on PostgreSQL); its unit of work
provides ``_rows`` on the unit's connection. Driver errors are translated by the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Rows = list[Sequence[Any]]


class StoreQueries:
    #: the dialect's statements (the module ``sql_sqlite`` or ``sql_postgres``)
    sql: Any

    async def _rows(self, sql: str, *args: Any) -> Rows:
        raise NotImplementedError

    async def _commit(self, sql: str, *args: Any) -> Rows:
        raise NotImplementedError


class TxQueries:
    sql: Any

    async def _rows(self, sql: str, *args: Any) -> Rows:
        raise NotImplementedError
