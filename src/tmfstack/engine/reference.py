"""Reference data through the engine: operator-loaded data sets that are not TMF resources
(``apis/geography/places.py``: regions, technologies, the areas addresses lie in).

Entries are documents keyed by (data set, key) in their own table (``store/reference_data.py``),
read with one primary-key lookup; ``cached`` parses an entry once per stored version::

    header = await engine.reference.cached("geo.reference", "current", parse_header, unit)
    await engine.reference.put(unit, "geo.street", key, {"areas": [...]})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from ..tmf import Doc
from .unit import Unit

if TYPE_CHECKING:
    from .core import Engine

T = TypeVar("T")


class ReferenceData:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: (data set, key) -> (version, parsed value) of ``cached`` entries
        self._cache: dict[tuple[str, str], tuple[int, Any]] = {}

    async def _entry(self, dataset: str, key: str, unit: Unit | None) -> tuple[int, bytes] | None:
        if unit is None:
            async with self.engine.unit() as own:
                return await self._entry(dataset, key, own)
        entry = await unit.tx.reference_get(dataset, key)
        return (entry.version, entry.doc) if entry is not None else None

    async def get(self, dataset: str, key: str, unit: Unit | None = None) -> Doc | None:
        entry = await self._entry(dataset, key, unit)
        if entry is None:
            return None
        doc: Doc = orjson.loads(entry[1])
        return doc

    async def cached(self, dataset: str, key: str, parse: Callable[[Doc], T], unit: Unit | None = None) -> T | None:
        """``parse`` of the entry, computed once per stored version (None: there is no entry)."""
        entry = await self._entry(dataset, key, unit)
        if entry is None:
            return None
        hit = self._cache.get((dataset, key))
        if hit is not None and hit[0] == entry[0]:
            value: T = hit[1]
            return value
        value = parse(orjson.loads(entry[1]))
        self._cache[(dataset, key)] = (entry[0], value)
        return value

    async def put(self, unit: Unit, dataset: str, key: str, doc: Doc) -> None:
        await unit.tx.reference_put(dataset, key, orjson.dumps(doc))

    async def delete(self, unit: Unit, dataset: str, key: str) -> bool:
        return await unit.tx.reference_delete(dataset, key)
