"""Reading TMF resources: TMF630 queries, lists, reads, and the indexed values of a document.

``ResourceReader`` is the read half of ``ResourceService`` (``service.py``): what a list or a
read needs, including partner isolation (a partner client sees only what names it as Seller,
``access.py``), and the indexed columns and reference values each write stores.
"""

from __future__ import annotations

import builtins
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard, get_args

import orjson

from .. import limits
from ..errors import BadRequest, NotFound
from ..store.base import REF, Indexed, Op, Row, SqlCond, Store
from ..tmf import Doc
from ..tmf630 import Condition, Query, leaves, matches, parse_query, project, sort_key
from ..tmf630.evaluate import text as _text
from . import access
from .declaration import ApiDecl, ResourceDecl
from .lookup import DomainReads
from .versions import VersionDecl

if TYPE_CHECKING:
    from .core import Engine

#: raw documents, conditions and sort columns (aliases: inside the class, ``list`` is the method)
Raws = list[bytes]
Conds = list[SqlCond]
Order = list[tuple[str, bool]]
_SQL_OPS = frozenset(get_args(Op))


def _is_sql_op(op: str) -> TypeGuard[Op]:
    """Whether the store can compare with ``op`` in SQL (else the engine filters the page)."""
    return op in _SQL_OPS


_UNBOUNDED = 1 << 62
#: the longest parameter list (characters) whose parsed query is remembered
_REMEMBERED = 2048


def _nth_key(n: int) -> Callable[[tuple[bytes, tuple[Any, ...]]], Any]:
    """The ``n``-th sort key of a match (bytes, sort keys)."""
    return lambda match: match[1][n]


@dataclass
class Page:
    total: int
    items: list[bytes]


class ResourceReader(DomainReads):
    def __init__(self, engine: Engine, api: ApiDecl, decl: ResourceDecl) -> None:
        self.engine, self.api, self.decl = engine, api, decl
        self.name = decl.name
        self.kind = api.kind(decl.name)
        self.entity = decl.entity_name
        self._ref_paths = [(p, tuple(p.split("."))) for p in decl.ref_paths]
        #: partner clients see only documents naming them as Seller (``engine/access.py``)
        self.isolated = not decl.shared
        # attribute -> indexed column; conditions and sorts on these run in SQL
        self.columns: dict[str, str] = {"id": "id", "name": "name", "@type": "type"}
        if decl.status_attr:
            self.columns[decl.status_attr] = "status"
        if decl.date_attr:
            self.columns[decl.date_attr] = "last_update"
        #: parsed queries by their parameters (``query``)
        self._queries: OrderedDict[tuple[tuple[str, str], ...], Query] = OrderedDict()

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def ref_marker(self) -> str:
        """What the reference index of this kind holds; a change re-indexes it at start."""
        paths = sorted(self.decl.ref_paths) + ([access.PARTNER_PATH] if self.isolated else [])
        return ",".join(paths)

    def href(self, id: str) -> str:
        return f"{self.engine.public_url}{self.api.root}/{self.name}/{id}"

    # -- queries ---------------------------------------------------------------------

    def classify(self, path: list[str]) -> str:
        return self.api.contract.path_kind(self.entity, path)

    def canonical(self, attribute: str, value: str) -> str:
        machine = self.decl.lifecycle
        if machine and attribute == machine.attribute:
            try:
                return machine.canonical(value)
            except BadRequest:
                return value  # an unknown state simply matches nothing
        return value

    def parse(self, params: list[tuple[str, str]]) -> Query:
        return parse_query(
            params,
            default_limit=self.engine.default_limit,
            max_limit=self.engine.max_limit,
            classify=self.classify,
            canonical=self.canonical,
        )

    def query(self, params: list[tuple[str, str]]) -> Query:
        """``parse``, remembered for the last 1,024 short parameter lists: a client asks the same
        page again and again, and a served version's parse also maps every path (a ``Query`` is
        immutable; an invalid one raises each time)."""
        key = tuple(params)
        found = self._queries.get(key)
        if found is None:
            found = self.parse(params)
            if sum(len(k) + len(v) for k, v in key) <= _REMEMBERED:
                if len(self._queries) >= 1024:
                    self._queries.popitem(last=False)
                self._queries[key] = found
        return found

    def _sql(self, cond: Condition) -> SqlCond | None:
        if cond.op == "eq" and cond.attribute in self.decl.ref_paths:
            return SqlCond(REF + cond.attribute, "eq", cond.values)
        op = cond.op
        if len(cond.path) != 1 or not _is_sql_op(op):
            return None
        column = self.columns.get(cond.path[0])
        return SqlCond(column, op, cond.values) if column else None

    def _seen_by(self, party: str | None) -> list[SqlCond]:
        """The index condition that narrows a list to what ``party`` may see (none for operators)."""
        if party is None or not self.isolated:
            return []
        return [SqlCond(REF + access.PARTNER_PATH, "eq", (party,))]

    def _check_visible(self, doc: Doc | bytes, party: str | None, id: str) -> None:
        """A partner asking for what it may not see is told it does not exist (existence is not leaked)."""
        if party is not None and self.isolated:
            found = orjson.loads(doc) if isinstance(doc, bytes) else doc
            if not access.visible(found, party):
                raise NotFound(f"{self.name} {id!r} does not exist")

    async def list(self, query: Query, party: str | None = None) -> Page:
        return await self._select(query, counted=True, party=party)

    async def list_all(self, query: Query, party: str | None = None) -> Raws:
        """Every match of ``query`` (its filters, fields and sort), without paging: for jobs and rules."""
        return (await self._select(replace(query, offset=0, limit=_UNBOUNDED), counted=False, party=party)).items

    def _indexed(self, query: Query, party: str | None) -> tuple[Conds, builtins.list[Condition], Order | None]:
        """``query`` split into what SQL answers (conditions, and the order when every sort key is
        a column, else None) and the conditions the engine evaluates itself."""
        sql: Conds = self._seen_by(party)
        rest: builtins.list[Condition] = []
        for cond in query.conditions:
            compiled = self._sql(cond)
            if compiled is None:
                rest.append(cond)
            else:
                sql.append(compiled)
        order: Order = []
        for path, desc in query.sort:
            column = self.columns.get(path[0]) if len(path) == 1 else None
            if column is None:
                return sql, rest, None
            order.append((column, desc))
        return sql, rest, order

    async def _select(self, query: Query, counted: bool, party: str | None = None) -> Page:
        """The page ``query`` asks for; its total only when ``counted`` (else the page's length)."""
        sql, rest, order = self._indexed(query, party)
        if order is not None and not rest:
            total = await self.store.count(self.kind, sql) if counted else None
            items = []
            if total is None or query.offset < total:
                items = await self.store.page(self.kind, sql, order, query.offset, query.limit)
                if total is None and len(items) < query.limit:  # list_all: a page cut short by size
                    items = await self._rest(sql, order, query, items)
            return Page(len(items) if total is None else total, await self._shape(items, query))
        # evaluated here: conditions or sort keys the indexes cannot serve; time-sliced, so that
        # a filter that matches nothing over every row never holds the event loop, and admitted
        # a few at a time (``engine.scans``), so that many of them cannot crowd out the rest
        # a match keeps its bytes and its sort keys, not its parsed document: fewer live objects
        # for the garbage collector to walk while 10,000 rows are evaluated
        found: builtins.list[tuple[bytes, tuple[tuple[int, Any], ...]]] = []
        async with self.engine.scans:
            slicer = limits.Slicer()
            async for raw in self.store.scan(self.kind, sql):
                doc = orjson.loads(raw)
                if matches(doc, rest):
                    found.append((raw, tuple(sort_key(doc, path) for path, _ in query.sort)))
                await slicer.tick()
            for n in reversed(range(len(query.sort))):  # stable sorts, the last key first
                found.sort(key=_nth_key(n), reverse=query.sort[n][1])
        window = found[query.offset : query.offset + query.limit]
        return Page(len(found), await self._shape([raw for raw, _ in window], query))

    async def _rest(self, sql: Conds, order: Order, query: Query, items: Raws) -> Raws:
        """The pages after ``items`` until none is left (a store ends a page at a byte budget)."""
        items = list(items)
        while True:
            more = await self.store.page(self.kind, sql, order, query.offset + len(items), query.limit - len(items))
            if not more:
                return items
            items.extend(more)

    async def _shape(self, items: Raws, query: Query) -> Raws:
        if query.fields is None:
            return items
        slicer, shaped = limits.Slicer(), Raws()
        for raw in items:
            shaped.append(self.project(raw, query.fields))
            await slicer.tick()
        return shaped

    def project(self, raw: bytes, fields: frozenset[str]) -> bytes:
        # a resource only another version serves (v5 ``own``) names its type in every answer, a projection
        # too: v5 entities require @type (TMF630 v5; VersionService keeps it the same way)
        keep = ("id", "href", "@type") if isinstance(self.api, VersionDecl) else ("id", "href")
        return orjson.dumps(project(orjson.loads(raw), fields, keep))

    async def get(self, id: str, party: str | None = None) -> Row:
        row = await self.store.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        self._check_visible(row.doc, party, id)
        return row

    # -- writes ----------------------------------------------------------------------

    def indexed(self, doc: Doc) -> Indexed:
        def text(key: str | None) -> str | None:
            value = doc.get(key) if key else None
            return value if isinstance(value, str) else None

        found = {(path, _text(v)) for path, parts in self._ref_paths for v in leaves(doc, parts)}
        if self.isolated:
            found.update((access.PARTNER_PATH, p) for p in access.partners(doc))
        refs = tuple(sorted(found))
        return Indexed(text("name"), text(self.decl.status_attr), text(self.decl.date_attr), text("@type"), refs)

    def refs_of(self, raw: bytes) -> tuple[tuple[str, str], ...]:
        return self.indexed(orjson.loads(raw)).refs or ()
