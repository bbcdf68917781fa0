"""Reference data has its own table (store/reference_data.py, engine.reference): a database
from before it, with places and markets stored as resources of kinds geo.*, keeps them
after the migration (moved, not copied), and an address is still found."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tmfstack.apis.geography import places
from tmfstack.engine.core import Engine
from tmfstack.store.base import open_store
from tmfstack.store.schema import MIGRATIONS

DATA = {
    "regions": [{"id": "AT", "name": "Austria"}, {"id": "AT-9", "name": "Wien", "parent": "AT"}],
    "technologies": [{"id": "FTTH", "serviceSpecification": ["cfs-fibre"]}],
    "areas": [
        {"postcode": "1010", "street": "Kärntner Straße", "from": 1, "to": 20, "region": "AT-9",
         "technologies": [{"id": "FTTH", "maxDownloadSpeed": 1000}]},
        {"postcode": "1020", "region": "AT-9", "technologies": [{"id": "FTTH"}]},
        {"id": "area-x", "postcode": "1030", "region": "AT-9"},
    ],
}  # fmt: skip
PLACE = {"postcode": "1010", "streetName": "Kärntner Str.", "streetNr": "12"}


async def _engine(path: Path) -> Engine:
    engine = Engine(open_store(f"sqlite:///{path}"), [])
    await engine.open()
    return engine


def test_reference_data_is_loaded_and_found_in_its_own_table(tmp_path: Path) -> None:
    async def run() -> None:
        engine = await _engine(tmp_path / "a.db")
        try:
            await places.load(engine, DATA)
            assert (await places.reference(engine)).regions["AT-9"]["name"] == "Wien"
            async with engine.unit() as unit:
                area = await places.locate(engine, unit, PLACE)
                assert area is not None and area.region == "AT-9"
                assert (await places.locate(engine, unit, {"postcode": "1020"})) is not None
                assert (await places.locate(engine, unit, {"id": "area-x"})) is not None
        finally:
            await engine.store.close()
        conn = sqlite3.connect(tmp_path / "a.db")
        assert conn.execute("SELECT count(*) FROM resource WHERE kind LIKE 'geo.%'").fetchone() == (0,)
        assert (
            conn.execute("SELECT count(*) FROM reference_data").fetchone()[0] == 5
        )  # header, street, 2 postcodes, area-x

    asyncio.run(run())


def test_a_database_from_before_keeps_its_reference_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"

    async def load_then_move_back() -> None:
        engine = await _engine(path)
        try:
            await places.load(engine, DATA)
        finally:
            await engine.store.close()

    asyncio.run(load_then_move_back())
    # as the store kept it before: rows of the resource table, schema at the migration before
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO resource(kind, id, version, doc) SELECT dataset, key, version, doc FROM reference_data")
    conn.execute("DROP TABLE reference_data")
    # and without what later migrations made (10: each version's rendition; 11: idempotency records)
    for column in ("shown", "shown_face", "shown_version"):
        conn.execute(f"ALTER TABLE resource DROP COLUMN {column}")
    conn.execute("DROP TABLE idempotency")
    before = next(n for n, m in enumerate(MIGRATIONS, start=1) if "CREATE TABLE reference_data" in m) - 1
    conn.execute("UPDATE tmfstack_meta SET value=? WHERE key='schema'", (str(before),))
    conn.close()

    async def reopen() -> None:
        engine = await _engine(path)
        try:
            assert (await places.reference(engine)).technologies.keys() == {"FTTH"}
            async with engine.unit() as unit:
                area = await places.locate(engine, unit, PLACE)
                assert area is not None and area.offers[0]["maxDownloadSpeed"] == 1000
        finally:
            await engine.store.close()

    asyncio.run(reopen())
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM resource WHERE kind LIKE 'geo.%'").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM reference_data").fetchone()[0] == 5
