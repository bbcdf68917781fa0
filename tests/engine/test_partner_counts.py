"""A partner's counts survive a re-index: when the reference index of a kind is rebuilt (its declared
paths changed), the per-partner counters are rebuilt from it too."""

from __future__ import annotations

import asyncio

from tmfstack.bootstrap import build_engine
from tmfstack.engine.access import PARTNER_PATH
from tmfstack.settings import Settings
from tmfstack.store.base import REF, SqlCond

PARTY = "/tmf-api/party/v4"


async def _scenario(settings: Settings) -> tuple[int, int, int]:
    engine = build_engine(settings)
    await engine.open()
    svc = engine.services[PARTY]["individual"]
    try:
        for n in range(5):
            await svc.create({"givenName": "P", "familyName": str(n)}, party="org-a" if n < 3 else "org-b")
        counted = [await engine.store.count(svc.kind, [SqlCond(REF + PARTNER_PATH, "eq", (p,))]) for p in ("org-a",)]
        # forget the index marker and the counters, as a database from before the partner index would be
        await _forget(engine, svc.kind)
    finally:
        await engine.store.close()
    engine = build_engine(settings)
    await engine.open()  # re-indexes: the marker differs
    try:
        a = await engine.store.count(svc.kind, [SqlCond(REF + PARTNER_PATH, "eq", ("org-a",))])
        b = await engine.store.count(svc.kind, [SqlCond(REF + PARTNER_PATH, "eq", ("org-b",))])
    finally:
        await engine.store.close()
    return counted[0], a, b


async def _forget(engine, kind: str) -> None:  # type: ignore[no-untyped-def]
    store = engine.store
    if hasattr(store, "conn"):  # SQLite
        store.conn.execute("DELETE FROM resource_count WHERE kind=? AND facet LIKE '@%'", (kind,))
        store.conn.execute("UPDATE tmfstack_meta SET value='' WHERE key=?", (f"refs:{kind}",))
    else:
        await store.pool.execute("DELETE FROM resource_count WHERE kind=$1 AND facet LIKE '@%'", kind)
        await store.pool.execute("UPDATE tmfstack_meta SET value='' WHERE key=$1", f"refs:{kind}")


def test_partner_counters_are_rebuilt_with_the_index(settings: Settings) -> None:
    before, a, b = asyncio.run(_scenario(settings))
    assert (before, a, b) == (3, 3, 2)
