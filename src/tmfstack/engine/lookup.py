"""Reads for domain rules: documents by id or by indexed attributes, inside a unit or not.

Domain code (order managers, qualification, pools …) reads other resources through these
methods of ``ResourceService`` — never through the store — so that what it reads is the
declared resource (its kind, its indexes, its partner view) and a later API version served
over the same data needs no change in it::

    products = engine.resource("tmf637", "product")
    active = await products.find({"relatedParty.id": customer_id, "status": "active"}, unit)
    offering = await engine.resource("tmf620", "productOffering").read(offering_id)

``where`` names attributes the resource indexes: ``id``, ``name``, ``@type``, its lifecycle
attribute, its date attribute, or a declared ``ref_paths`` entry (equality only). Asking for
anything else is a programming error (``ValueError``): the declaration must index it first,
because an unindexed read would walk every row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING

import orjson

from ..store.base import REF, Row, SqlCond

if TYPE_CHECKING:
    from ..tmf import Doc
    from .core import Engine
    from .declaration import ResourceDecl
    from .unit import Unit

Where = Mapping[str, str | Sequence[str]]


class DomainReads:
    """Mixed into ``ResourceReader``; relies on its ``engine``, ``kind``, ``decl`` and ``columns``."""

    engine: Engine
    kind: str
    decl: ResourceDecl
    columns: dict[str, str]

    def where(self, where: Where) -> list[SqlCond]:
        conds = []
        for attribute, value in where.items():
            values = (value,) if isinstance(value, str) else tuple(value)
            if attribute in self.decl.ref_paths:
                conds.append(SqlCond(REF + attribute, "eq", values))
            elif attribute in self.columns:
                conds.append(SqlCond(self.columns[attribute], "eq", values))
            else:
                raise ValueError(f"{self.kind}: {attribute!r} is not indexed (declare it in ref_paths)")
        return conds

    async def row(self, id: str | None, unit: Unit | None = None, *, track: bool = False) -> Row | None:
        """The stored row of ``id``; ``track``: a write of it later in ``unit`` must find it still
        at this version (``Unit.seen``), so a step never overwrites a change made since its read."""
        if not id:
            return None
        row = await (unit.tx.get(self.kind, id) if unit is not None else self.engine.store.get(self.kind, id))
        if row is not None and track and unit is not None:
            unit.seen[(self.kind, id)] = row.version
        return row

    async def read(self, id: str | None, unit: Unit | None = None, *, track: bool = False) -> Doc | None:
        """The stored document of ``id`` (None when there is none); see ``row`` for ``track``."""
        row = await self.row(id, unit, track=track)
        if row is None:
            return None
        doc: Doc = orjson.loads(row.doc)
        return doc

    async def find_raw(self, where: Where, unit: Unit | None = None, *, limit: int = 100) -> list[bytes]:
        conds = self.where(where)
        if unit is not None:
            return await unit.tx.page(self.kind, conds, [], 0, limit)
        return await self.engine.store.page(self.kind, conds, [], 0, limit)

    async def find(self, where: Where, unit: Unit | None = None, *, limit: int = 100) -> list[Doc]:
        """Up to ``limit`` documents matching every (attribute, value) of ``where``, by id."""
        return [orjson.loads(raw) for raw in await self.find_raw(where, unit, limit=limit)]

    async def scan(self, where: Where) -> AsyncIterator[Doc]:
        """Every committed document matching ``where``, however many (background work resuming)."""
        async for raw in self.engine.store.scan(self.kind, self.where(where)):
            doc: Doc = orjson.loads(raw)
            yield doc

    async def first(self, where: Where, unit: Unit | None = None) -> Doc | None:
        found = await self.find(where, unit, limit=1)
        return found[0] if found else None

    async def count_where(self, where: Where) -> int:
        """How many committed documents match ``where`` (exact; O(1) on counted columns)."""
        return await self.engine.store.count(self.kind, self.where(where))

    # -- members held by an order (pools) ------------------------------------------------

    async def hold(self, unit: Unit, ids: Sequence[str], holder: str, customer: str) -> set[str]:
        """Record ``holder`` as holding ``ids`` for ``customer``; returns those someone else holds."""
        return await unit.tx.hold(self.kind, ids, holder, customer)

    async def unhold(self, unit: Unit, ids: Sequence[str]) -> None:
        await unit.tx.unhold(self.kind, ids)

    async def held(self, unit: Unit, customer: str) -> int:
        return await unit.tx.held(self.kind, customer)
