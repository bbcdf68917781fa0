"""The store under test, once per backend: SQLite always, PostgreSQL too when
``TMFSTACK_TEST_DATABASE_URL`` names a server (a fresh database per test, made by the suite's
``_fresh_postgres``). The fixtures (``store``, ``store_url``, ``anyio_backend``) reach the modules of
this folder through its conftest; ``doc`` and ``idx`` build rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.database import PG_URL, _fresh_postgres
from tmfstack.store.base import Indexed, Store, open_store

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.skipif(not PG_URL, reason="TMFSTACK_TEST_DATABASE_URL is not set")),
]


@pytest.fixture(name="anyio_backend")
def anyio_backend_fixture() -> str:
    return "asyncio"


@pytest.fixture(name="store_url", params=BACKENDS)
def store_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return _fresh_postgres(PG_URL)
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(name="store")
async def store_fixture(store_url: str) -> AsyncIterator[Store]:
    store = open_store(store_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def doc(id: str, **fields: object) -> bytes:
    return json.dumps({"id": id, **fields}).encode()


def idx(
    name: str | None = None,
    status: str | None = None,
    type: str | None = None,
    last_update: str | None = None,
    refs: tuple[tuple[str, str], ...] | None = (),
) -> Indexed:
    return Indexed(name=name, status=status, last_update=last_update, type=type, refs=refs)
