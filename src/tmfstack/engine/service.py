"""The generic TMF resource service: create, read, list, patch, delete, with events.

One ``ResourceService`` per declared resource; no resource has CRUD code of its own.
Every write commits the row and its events (outbox) in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from ..clock import new_id, now_iso
from ..errors import BadRequest, ConcurrentUpdate, NotFound, PreconditionFailed
from ..events.envelope import envelope
from ..events.subscriptions import wanted_by
from ..store.base import REF, Indexed, Row, SqlCond, Store
from ..tmf630 import Condition, Query, leaves, matches, parse_query, project, sort_key
from ..tmf630.evaluate import text as _text
from . import patch as patching
from .declaration import ApiDecl, Doc, ResourceDecl
from .unit import Unit

if TYPE_CHECKING:
    from .registry import Engine

_SQL_OPS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte"})
_CAS_RETRIES = 3
_UNBOUNDED = 1 << 62


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(header: str | None, version: int) -> None:
    if header is None:
        return
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed(f"If-Match {header} does not match the current ETag {etag(version)}")


@dataclass
class Page:
    total: int
    items: list[bytes]


class ResourceService:
    def __init__(self, engine: Engine, api: ApiDecl, decl: ResourceDecl) -> None:
        self.engine, self.api, self.decl = engine, api, decl
        self.name = decl.name
        self.kind = api.kind(decl.name)
        self.entity = decl.entity_name
        self.event_api = f"{api.key}.{api.version}"
        contract = api.contract
        full = set(contract.properties(self.entity))
        create_def = f"{self.entity}_Create"
        update_def = f"{self.entity}_Update"
        self.create_def = create_def if contract.has(create_def) else self.entity
        self.update_def = update_def if contract.has(update_def) else None
        owned = {"id", "href"} | set(decl.server_owned)
        if decl.stamp:
            owned.add(decl.stamp)
        self.owned_on_create = (full - set(contract.properties(self.create_def))) | owned
        patchable = set(contract.properties(self.update_def)) if self.update_def else full
        self.owned_on_patch = (full - patchable) | owned
        self._ref_paths = [(p, tuple(p.split("."))) for p in decl.ref_paths]
        self._one_change_event = f"{self.entity}ChangeEvent" in contract.events
        self.event_types = frozenset(
            e for e in contract.events if e.startswith(self.entity) and e[len(self.entity) :][:1].isupper()
        )
        # attribute -> indexed column; conditions and sorts on these run in SQL
        self.columns: dict[str, str] = {"id": "id", "name": "name", "@type": "type"}
        if decl.status_attr:
            self.columns[decl.status_attr] = "status"
        if decl.date_attr:
            self.columns[decl.date_attr] = "last_update"

    @property
    def store(self) -> Store:
        return self.engine.store

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

    def _sql(self, cond: Condition) -> SqlCond | None:
        if cond.op == "eq" and cond.attribute in self.decl.ref_paths:
            return SqlCond(REF + cond.attribute, "eq", cond.values)
        if len(cond.path) != 1 or cond.op not in _SQL_OPS:
            return None
        column = self.columns.get(cond.path[0])
        return SqlCond(column, cond.op, cond.values) if column else None  # type: ignore[arg-type]

    async def list(self, query: Query) -> Page:
        return await self._select(query, counted=True)

    async def list_all(self, query: Query) -> list[bytes]:
        """Every match of ``query`` (its filters, fields and sort), without paging: for jobs and rules."""
        return (await self._select(replace(query, offset=0, limit=_UNBOUNDED), counted=False)).items

    async def _select(self, query: Query, counted: bool) -> Page:
        """The page ``query`` asks for; its total only when ``counted`` (else the page's length)."""
        sql: list[SqlCond] = []
        rest: list[Condition] = []
        for cond in query.conditions:
            compiled = self._sql(cond)
            if compiled is None:
                rest.append(cond)
            else:
                sql.append(compiled)
        order = []
        for path, desc in query.sort:
            column = self.columns.get(path[0]) if len(path) == 1 else None
            if column is None:
                break
            order.append((column, desc))
        else:
            if not rest:
                total = await self.store.count(self.kind, sql) if counted else None
                items = []
                if total is None or query.offset < total:
                    items = await self.store.page(self.kind, sql, order, query.offset, query.limit)
                return Page(len(items) if total is None else total, self._shape(items, query))
        # evaluated here: conditions or sort keys the indexes cannot serve
        found: list[tuple[bytes, Doc]] = []
        async for raw in self.store.scan(self.kind, sql):
            doc = orjson.loads(raw)
            if matches(doc, rest):
                found.append((raw, doc))
        for path, desc in reversed(query.sort):
            found.sort(key=lambda pair, p=path: sort_key(pair[1], p), reverse=desc)
        window = found[query.offset : query.offset + query.limit]
        return Page(len(found), self._shape([raw for raw, _ in window], query))

    def _shape(self, items: list[bytes], query: Query) -> list[bytes]:
        if query.fields is None:
            return items
        return [self.project(raw, query.fields) for raw in items]

    def project(self, raw: bytes, fields: frozenset[str]) -> bytes:
        return orjson.dumps(project(orjson.loads(raw), fields))

    async def get(self, id: str) -> Row:
        row = await self.store.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        return row

    # -- writes ----------------------------------------------------------------------

    def indexed(self, doc: Doc) -> Indexed:
        def text(key: str | None) -> str | None:
            value = doc.get(key) if key else None
            return value if isinstance(value, str) else None

        refs = tuple(sorted({(path, _text(v)) for path, parts in self._ref_paths for v in leaves(doc, parts)}))
        return Indexed(text("name"), text(self.decl.status_attr), text(self.decl.date_attr), text("@type"), refs)

    def refs_of(self, raw: bytes) -> tuple[tuple[str, str], ...]:
        return self.indexed(orjson.loads(raw)).refs

    async def emit(self, unit: Unit, kind: str, doc: Doc, field_path: str | None = None) -> None:
        """Write the event and one delivery per interested subscription in the unit's transaction.

        Only the event types the spec defines for the entity are emitted; an entity for which
        the spec defines none (e.g. v4 import jobs) gets the four standard ones.
        """
        event_type = f"{self.entity}{kind}Event"
        if self.event_types and event_type not in self.event_types:
            # TMF633/634 v4 name one "…ChangeEvent" for attribute and state changes alike
            event_type = f"{self.entity}ChangeEvent"
            if event_type not in self.event_types or kind not in ("AttributeValueChange", "StateChange"):
                return
        hubs = await unit.subscriptions(self.event_api)
        if not hubs:
            return  # nobody listens: an event no delivery refers to would never be read
        event = envelope(event_type, self.name, doc, field_path)
        wanted = wanted_by(hubs, event)
        if not wanted:
            return
        await unit.tx.add_event(self.event_api, event["eventId"], event["eventType"], orjson.dumps(event), wanted)
        unit.deliveries += len(wanted)

    def _canonical_state(self, doc: Doc) -> Doc:
        """The state attribute in its stored spelling (400 for an unknown state)."""
        machine = self.decl.lifecycle
        if machine and isinstance(doc.get(machine.attribute), str):
            doc[machine.attribute] = machine.canonical(doc[machine.attribute])
        return doc

    def _finish(self, doc: Doc, before: Doc | None) -> Doc:
        """Lifecycle, rules and the response contract, shared by create and patch."""
        machine = self.decl.lifecycle
        if machine:
            attr = machine.attribute
            if attr in doc:
                doc[attr] = machine.canonical(doc[attr])
            elif before is None and machine.initial:
                doc[attr] = machine.initial
            if before is None:
                if attr in doc:
                    machine.check_create(doc[attr])
            elif attr in before:
                if attr not in doc:
                    raise BadRequest(f"{attr} cannot be removed", code="INVALID_VALUE")
                machine.check(before[attr], doc[attr])
        for rule in self.decl.rules:
            rule(doc, before)
        if self.decl.stamp:
            doc[self.decl.stamp] = now_iso()
        self.api.contract.validate(self.entity, doc)
        return doc

    def prepare_create(self, body: Any, keep_id: bool = False) -> Doc:
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        body = dict(body)  # the caller's dict stays as given (callers reuse it, e.g. its id)
        # an import (keep_id) may carry what an export wrote: its id is kept, href and stamps are redone
        restamped = {"id", "href", self.decl.stamp, self.decl.created_stamp} - {None}
        owned = self.owned_on_create - (restamped if keep_id else set())
        sent = sorted(k for k in body if k in owned)
        if sent:
            raise BadRequest(
                f"{', '.join(sent)} {'is' if len(sent) == 1 else 'are'} set by the server and cannot be sent on create",
                code="READ_ONLY_ATTRIBUTE",
            )
        given_id = body.pop("id", None) if keep_id else None
        for key in restamped:
            body.pop(key, None)
        machine = self.decl.lifecycle
        if machine and isinstance(body.get(machine.attribute), str):
            body[machine.attribute] = machine.canonical(body[machine.attribute])  # before the enum check
        self.api.contract.validate(self.create_def, body)
        doc: Doc = {**self.decl.defaults, **body}
        id = str(given_id) if given_id else new_id()
        doc = {"id": id, "href": self.href(id), **doc}
        doc.setdefault("@type", self.entity)
        if self.decl.created_stamp:
            doc[self.decl.created_stamp] = now_iso()
        return self._finish(doc, None)

    async def create(self, body: Any, keep_id: bool = False, unit: Unit | None = None) -> tuple[Doc, bytes, int]:
        doc = self.prepare_create(body, keep_id)
        if unit is None:
            async with self.engine.unit() as own:
                return await self.insert(own, doc)
        return await self.insert(unit, doc)

    async def insert(self, unit: Unit, doc: Doc, *, before: bool = True) -> tuple[Doc, bytes, int]:
        """Store a prepared document and its CreateEvent in ``unit`` (``before``: run before_insert)."""
        if before and self.decl.before_insert is not None:
            await self.decl.before_insert(self, unit, doc)
            self.api.contract.validate(self.entity, doc)
        raw = orjson.dumps(doc)
        await unit.tx.insert(self.kind, doc["id"], self.indexed(doc), raw)
        await self.emit(unit, "Create", doc)
        if self.decl.on_create is not None:
            await self.decl.on_create(self, unit, doc)
        hook = self.decl.after_commit
        if hook is not None:
            unit.later.append(lambda: hook(self, doc))
        return doc, raw, 1

    async def patch(
        self, id: str, body: bytes, content_type: str | None, if_match: str | None = None
    ) -> tuple[Doc, bytes, int]:
        def change(before: Doc) -> Doc:
            after = self._canonical_state(patching.apply(before, body, content_type))  # rules see stored spellings
            touched = sorted(
                k for k in set(before) | set(after) if k in self.owned_on_patch and before.get(k) != after.get(k)
            )
            if touched:
                raise BadRequest(
                    f"{', '.join(touched)} cannot be changed by PATCH (owned by the server)",
                    code="READ_ONLY_ATTRIBUTE",
                )
            for rule in self.decl.patch_rules:
                rule(after, before)
            return after

        return await self.update(id, change, if_match)

    async def replace(self, id: str, body: Any, if_match: str | None = None) -> tuple[Doc, bytes, int]:
        """PUT: the body becomes the resource (server-owned attributes kept, like PATCH refuses them)."""
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        sent = sorted(k for k in body if k in self.owned_on_patch)
        if sent:
            raise BadRequest(
                f"{', '.join(sent)} cannot be set by PUT (owned by the server)", code="READ_ONLY_ATTRIBUTE"
            )
        if self.update_def:
            self.api.contract.validate(self.update_def, body)

        def change(before: Doc) -> Doc:
            kept = {k: before[k] for k in self.owned_on_patch if k in before}
            return {**kept, **body}

        return await self.update(id, change, if_match)

    async def update(
        self, id: str, change: Callable[[Doc], Doc], if_match: str | None = None, unit: Unit | None = None
    ) -> tuple[Doc, bytes, int]:
        """Read, change, check and write with compare-and-set; emits the change events.

        Without a unit, a concurrent change is retried from a fresh read; inside a unit the
        Conflict aborts the unit and its owner retries the whole of it.
        """
        if unit is not None:
            return await self._update(unit, id, change, if_match)
        for _ in range(_CAS_RETRIES):
            try:
                async with self.engine.unit() as own:
                    return await self._update(own, id, change, if_match)
            except ConcurrentUpdate:
                if if_match is not None:
                    raise PreconditionFailed(f"{self.name} {id!r} changed concurrently") from None
        raise ConcurrentUpdate(f"{self.name} {id!r} is being changed concurrently; retry")

    async def _update(
        self, unit: Unit, id: str, change: Callable[[Doc], Doc], if_match: str | None
    ) -> tuple[Doc, bytes, int]:
        row = await unit.tx.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        check_if_match(if_match, row.version)
        seen = unit.seen.get((self.kind, id))
        if seen is not None and seen != row.version:
            # the unit's step decided on an older version (``Unit.seen``): it must look again
            raise ConcurrentUpdate(f"{self.name} {id!r} changed while a step worked on it")
        before = orjson.loads(row.doc)
        after = self._canonical_state(change(orjson.loads(row.doc)))
        if after == before:  # same state in another spelling included: no new version
            return before, row.doc, row.version
        after = self._finish(after, before)
        raw = orjson.dumps(after)
        idx = self.indexed(after)
        if self._ref_paths and idx.refs == self.indexed(before).refs:
            idx = replace(idx, refs=None)  # unchanged: the store keeps the stored ones
        version = await unit.tx.update(self.kind, id, row.version, idx, raw)
        if seen is not None:
            unit.seen[(self.kind, id)] = version
        status, stamp = self.decl.status_attr, self.decl.stamp
        attrs = [
            k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k) and k not in (status, stamp)
        ]
        state_changed = bool(status) and before.get(status) != after.get(status)
        if attrs:
            await self.emit(unit, "AttributeValueChange", after, ",".join(attrs))
        if state_changed and not (attrs and self._one_change_event):
            await self.emit(unit, "StateChange", after)
        if self.decl.on_update is not None:
            await self.decl.on_update(self, unit, before, after)
        return after, raw, version

    async def delete(self, id: str, if_match: str | None = None, unit: Unit | None = None) -> None:
        if unit is None:
            async with self.engine.unit() as own:
                return await self.delete(id, if_match, own)
        row = await unit.tx.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        check_if_match(if_match, row.version)
        doc = orjson.loads(row.doc)
        if self.decl.can_delete is not None:
            self.decl.can_delete(doc)
        if not await unit.tx.delete(self.kind, id, row.version):
            raise ConcurrentUpdate(f"{self.name} {id!r} changed concurrently; retry")
        await self.emit(unit, "Delete", doc)
