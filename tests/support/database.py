"""A fresh, empty database: SQLite in a test's folder, or a new database on the PostgreSQL server that
``TMFSTACK_TEST_DATABASE_URL`` names (``.ci/run`` runs the suite both ways)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

PG_URL = os.environ.get("TMFSTACK_TEST_DATABASE_URL", "")


def _fresh_postgres(base: str) -> str:
    """A new, empty database on the test server."""
    import asyncpg

    name = "t_" + uuid.uuid4().hex[:12]

    async def create() -> None:
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}"


def fresh_database_url(folder: Path, name: str = "test.db") -> str:
    """A new database's URL: on the PostgreSQL test server when one is configured, else ``folder/name`` in SQLite."""
    return _fresh_postgres(PG_URL) if PG_URL else f"sqlite:///{folder / name}"
