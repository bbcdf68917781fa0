"""The generic TMF resource service: create, read, list, patch, delete, with events.

One ``ResourceService`` per declared resource; no resource has CRUD code of its own.
Every write commits the row and its events (outbox) in one transaction. Queries and reads
are its base class, ``ResourceReader`` (``reading.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from .. import limits
from ..clock import new_id, now_iso
from ..errors import BadRequest, ConcurrentUpdate, NotFound, PreconditionFailed, Unprocessable
from ..store.base import Indexed
from ..tmf import Doc
from ..tmf630 import leaves
from . import access, emitting
from . import patch as patching
from .declaration import ApiDecl, ResourceDecl
from .ownership import Actor, guard
from .reading import ResourceReader
from .unit import Unit

if TYPE_CHECKING:
    from .core import Engine

_CAS_RETRIES = 3
#: PATCH bodies larger than this are parsed and checked in a worker thread (the loop stays free)
_OFF_LOOP = 64 << 10


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(header: str | None, version: int) -> None:
    if header is None:
        return
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed(f"If-Match {header} does not match the current ETag {etag(version)}")


def _wrapped_party(contract: Any, entity: str) -> str | None:
    items = contract.properties(entity).get("relatedParty", {}).get("items", {})
    name = str(items.get("$ref", "")).rsplit("/", 1)[-1]
    return name if name and "partyOrPartyRole" in contract.properties(name) else None


class ResourceService(ResourceReader):
    def __init__(self, engine: Engine, api: ApiDecl, decl: ResourceDecl) -> None:
        super().__init__(engine, api, decl)
        self.event_api = f"{api.key}.{api.version}"
        contract = api.contract
        full = set(contract.properties(self.entity))
        named = contract.schemas(decl.path)  # an OAS 3 file names them (X_FVO, X_MVO); v4: by convention
        create_def = named.get("create") or f"{self.entity}_Create"
        update_def = named.get("patch") or f"{self.entity}_Update"
        self.create_def = create_def if contract.has(create_def) else self.entity
        self.update_def = update_def if contract.has(update_def) else None
        owned = {"id", "href"} | set(decl.server_owned)
        if decl.stamp:
            owned.add(decl.stamp)
        self.owned_on_create = (full - set(contract.properties(self.create_def))) | owned
        patchable = set(contract.properties(self.update_def)) if self.update_def else full
        self.owned_on_patch = (full - patchable) | owned
        #: the related party schema where it wraps the party (v5, a version's own resource stored in
        #: its own shape): the Seller entry ``access.mark`` adds takes that shape
        self.party_entry = _wrapped_party(contract, self.entity)
        self._one_change_event = f"{self.entity}ChangeEvent" in contract.events
        self.event_types = frozenset(
            e for e in contract.events if e.startswith(self.entity) and e[len(self.entity) :][:1].isupper()
        )
        #: who hears of this resource's changes: each served version's event API, with the service
        #: that shapes events for it (None: this one's shape); the engine adds the other versions
        self.listeners: list[tuple[str, ResourceService | None]] = [(self.event_api, None)]

    @property
    def operations(self) -> frozenset[str]:
        """What the served contract allows on this resource (list, get, create, patch, delete …)."""
        return self.api.contract.served(self.decl.path) or frozenset()

    def view(self, doc: Doc) -> Doc:
        """A stored document as this service's version shows it (the stored shape: itself)."""
        return doc

    def respond(self, raw: bytes, fields: frozenset[str] | None = None, shown: bytes | None = None) -> bytes:
        """The answer for a stored document: its bytes untouched unless ``fields`` selects some
        (``shown``: another version's stored rendition, ``served.py``)."""
        return raw if fields is None else self.project(raw, fields)

    def location(self, doc: Doc) -> str:
        return str(doc["href"])

    def shaped_event(self, event: Doc) -> Doc:
        """An event of the stored shape as this version's listeners receive it."""
        return event

    def apply_patch(self, before: Doc, patch_type: str, parsed: Any) -> Doc:
        return patching.apply_parsed(before, patch_type, parsed)

    async def emit(self, unit: Unit, change: str, doc: Doc, field_path: str | None = None) -> None:
        """Write the change's event and its deliveries in the unit's transaction (``emitting.py``)."""
        await emitting.emit(self, unit, change, doc, field_path)

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

    def prepare_create(self, body: Any, keep_id: bool = False, party: str | None = None, checked: bool = False) -> Doc:
        """``checked``: the body was bounded already (the web edge parses and checks every body)."""
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        if not checked:  # every other path creates here: imports, the order manager, the demo
            limits.check_json(body, what=self.name)
        body = dict(body)  # the caller's dict stays as given (callers reuse it, e.g. its id)
        if party is not None and self.isolated:
            access.mark(body, party, self.party_entry)
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
        given = str(given_id) if isinstance(given_id, int) else given_id
        id = new_id() if given_id is None else limits.check_id(given)
        doc = {"id": id, "href": self.href(id), **doc}
        doc.setdefault("@type", self.entity)
        if self.decl.created_stamp:
            doc[self.decl.created_stamp] = now_iso()
        return self._finish(doc, None)

    async def create(
        self,
        body: Any,
        keep_id: bool = False,
        unit: Unit | None = None,
        party: str | None = None,
        actor: Actor | None = None,
        checked: bool = False,
    ) -> tuple[Doc, bytes, int]:
        """``party``: the partner a client acts for (marked as Seller; what it refers to must be its own);
        ``actor``: the client whose request this is (ownership rules apply), None for the server's own writes;
        ``checked``: the body was bounded already by the web edge."""
        doc = self.prepare_create(body, keep_id, party, checked)
        if party is not None and self.decl.refers_to is not None:
            await self._check_reference(doc, party)
        if unit is None:
            async with self.engine.unit() as own:
                return await self._create(own, doc, actor, checked)
        return await self._create(unit, doc, actor, checked)

    async def _create(self, unit: Unit, doc: Doc, actor: Actor | None, client: bool) -> tuple[Doc, bytes, int]:
        if actor is not None:
            await guard(self, unit, None, doc, actor)
        return await self.insert(unit, doc, client=client)

    async def _check_reference(self, doc: Doc, party: str) -> None:
        path, resource = self.decl.refers_to or ("", "")
        target = self.engine.services[self.api.root][resource]
        for id in {str(v) for v in leaves(doc, tuple(path.split(".")))} or {""}:
            row = await self.store.get(target.kind, id)
            if row is None or (target.isolated and not access.visible(orjson.loads(row.doc), party)):
                raise Unprocessable(f"{resource} {id!r} does not exist", code="REFERENCE_NOT_FOUND")

    async def insert(
        self, unit: Unit, doc: Doc, *, before: bool = True, client: bool = False
    ) -> tuple[Doc, bytes, int]:
        """Store a prepared document and its CreateEvent in ``unit`` (``before``: run before_insert;
        ``client``: a client's write, whose other-version rendition is stored with it, ``faces.py``)."""
        if before and self.decl.before_insert is not None:
            await self.decl.before_insert(self, unit, doc)
            self.api.contract.validate(self.entity, doc)
        raw = orjson.dumps(doc)
        limits.check_size(raw, f"{self.name} {doc['id']}")
        shown = self.engine.faces.shown(self.kind, raw, self, client)
        await unit.tx.insert(self.kind, doc["id"], self._bounded_index(doc), raw, shown)
        await self.emit(unit, "Create", doc)
        if self.decl.on_create is not None:
            await self.decl.on_create(self, unit, doc)
        hook = self.decl.after_commit
        if hook is not None:
            unit.later.append(lambda: hook(self, doc))
        return doc, raw, 1

    def _bounded_index(self, doc: Doc) -> Indexed:
        """The indexed values, each short enough for an index entry (else a 400, not a driver error)."""
        idx = self.indexed(doc)
        for what, value in (("name", idx.name), ("state", idx.status), ("@type", idx.type), *(idx.refs or ())):
            limits.check_indexed(value, what)
        return idx

    async def patch(
        self,
        id: str,
        body: bytes,
        content_type: str | None,
        if_match: str | None = None,
        party: str | None = None,
        actor: Actor | None = None,
    ) -> tuple[Doc, bytes, int]:
        if len(body) > _OFF_LOOP:
            patch_type, parsed = await asyncio.to_thread(patching.parse, body, content_type)
        else:
            patch_type, parsed = patching.parse(body, content_type)

        def change(before: Doc) -> Doc:
            # rules see stored spellings
            after = self._canonical_state(self.apply_patch(before, patch_type, parsed))
            if patch_type == patching.JSON_PATCH:  # "add" at a deep path, "move" under one: may nest deeper
                limits.check_json(after, what=f"{self.name} {id}")
            touched = sorted(
                k for k in set(before) | set(after) if k in self.owned_on_patch and before.get(k) != after.get(k)
            )
            if touched:
                raise BadRequest(
                    f"{', '.join(touched)} cannot be changed by PATCH (owned by the server)",
                    code="READ_ONLY_ATTRIBUTE",
                )
            # domain rules may rely on the schema (a note is a list): they never see an invalid patch
            self.api.contract.validate(self.entity, after)
            for rule in self.decl.patch_rules:
                rule(after, before)
            if party is not None and self.isolated:
                access.check_kept(before, after)
            return after

        return await self.update(id, change, if_match, party=party, actor=actor, bounded=True)

    async def replace(
        self, id: str, body: Any, if_match: str | None = None, party: str | None = None, actor: Actor | None = None
    ) -> tuple[Doc, bytes, int]:
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
            after = {**kept, **body}
            if party is not None and self.isolated:
                access.check_kept(before, after)
            return after

        return await self.update(id, change, if_match, party=party, actor=actor, bounded=True)

    async def update(
        self,
        id: str,
        change: Callable[[Doc], Doc],
        if_match: str | None = None,
        unit: Unit | None = None,
        party: str | None = None,
        actor: Actor | None = None,
        bounded: bool = False,
    ) -> tuple[Doc, bytes, int]:
        """Read, change, check and write with compare-and-set; emits the change events.

        Without a unit, a concurrent change is retried from a fresh read; inside a unit the
        Conflict aborts the unit and its owner retries the whole of it. ``bounded``: a client's
        change (PATCH, PUT), whose result must stay within the size limit (its depth: a merge or
        a PUT nests no deeper than its checked body, a JSON Patch is checked by ``patch``); the
        server's own steps are not refused for what a client's accepted document became.
        """
        if unit is not None:
            return await self._update(unit, id, change, if_match, party, actor, bounded)
        for _ in range(_CAS_RETRIES):
            try:
                async with self.engine.unit() as own:
                    return await self._update(own, id, change, if_match, party, actor, bounded)
            except ConcurrentUpdate:
                if if_match is not None:
                    raise PreconditionFailed(f"{self.name} {id!r} changed concurrently") from None
        raise ConcurrentUpdate(f"{self.name} {id!r} is being changed concurrently; retry")

    async def _update(
        self,
        unit: Unit,
        id: str,
        change: Callable[[Doc], Doc],
        if_match: str | None,
        party: str | None = None,
        actor: Actor | None = None,
        bounded: bool = False,
    ) -> tuple[Doc, bytes, int]:
        row = await unit.tx.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        self._check_visible(row.doc, party, id)
        check_if_match(if_match, row.version)
        seen = unit.seen.get((self.kind, id))
        if seen is not None and seen != row.version:
            # the unit's step decided on an older version (``Unit.seen``): it must look again
            raise ConcurrentUpdate(f"{self.name} {id!r} changed while a step worked on it")
        before = orjson.loads(row.doc)
        after = self._canonical_state(change(orjson.loads(row.doc)))
        if after == before:  # same state in another spelling included: no new version
            return before, row.doc, row.version
        if actor is not None:
            await guard(self, unit, before, after, actor)
        after = self._finish(after, before)
        raw = orjson.dumps(after)
        if bounded:  # each PATCH may add up to a body's size
            limits.check_size(raw, f"{self.name} {id}")
        idx = self._bounded_index(after) if bounded else self.indexed(after)
        if self._ref_paths and idx.refs == self.indexed(before).refs:
            idx = replace(idx, refs=None)  # unchanged: the store keeps the stored ones
        shown = self.engine.faces.shown(self.kind, raw, self, bounded)
        version = await unit.tx.update(self.kind, id, row.version, idx, raw, shown)
        if seen is not None:
            unit.seen[(self.kind, id)] = version
        status, stamp = self.decl.status_attr, self.decl.stamp
        attrs = [
            k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k) and k not in (status, stamp)
        ]
        state_changed = status is not None and before.get(status) != after.get(status)
        if attrs:
            await self.emit(unit, "AttributeValueChange", after, ",".join(attrs))
        if state_changed and not (attrs and self._one_change_event):
            await self.emit(unit, "StateChange", after)
        if self.decl.on_update is not None:
            await self.decl.on_update(self, unit, before, after)
        return after, raw, version

    async def delete(
        self,
        id: str,
        if_match: str | None = None,
        unit: Unit | None = None,
        party: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        if unit is None:
            async with self.engine.unit() as own:
                return await self.delete(id, if_match, own, party, actor)
        row = await unit.tx.get(self.kind, id)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        self._check_visible(row.doc, party, id)
        check_if_match(if_match, row.version)
        doc = orjson.loads(row.doc)
        if self.decl.can_delete is not None:
            self.decl.can_delete(doc)
        if actor is not None:
            await guard(self, unit, doc, None, actor)
        if not await unit.tx.delete(self.kind, id, row.version):
            raise ConcurrentUpdate(f"{self.name} {id!r} changed concurrently; retry")
        await self.emit(unit, "Delete", doc)
