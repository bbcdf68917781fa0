"""A canonical resource served through another version (``versions.py``): the edge's mapping.

``VersionService`` is the canonical resource's service (same kind, lifecycle, rules, hooks and
events) with the served version's face: its requests are validated against the served schemas
(``X_FVO`` / ``X_MVO``) and mapped to the stored shape, its answers mapped back (``shape.render``)
with the served ``href``; its TMF630 queries name served attribute paths, mapped to stored ones
before the same indexed select runs. Nothing is stored twice and no rule is written twice.

Leniency on input, strictness on output (tmf-conventions §10.12): the v5 files require ``@type``
in every object of a body, merge-patch bodies included; a body without it is accepted (the
answer carries it), every other schema violation is refused.
"""

from __future__ import annotations

import builtins
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from .. import limits
from ..errors import BadRequest, NotFound
from ..store.base import Row
from ..tmf import Doc
from ..tmf630 import Query, project
from . import patch as patching
from .lenient import lenient_validator
from .ownership import Actor
from .reading import Page
from .service import ResourceService
from .shape import Node, Plan, accept, path, render

if TYPE_CHECKING:
    from .core import Engine
    from .declaration import ApiDecl, ResourceDecl
    from .unit import Unit
    from .versions import VersionDecl

_KEEP = ("id", "href", "@type")


def lenient_errors(contract: Any, definition: str, body: Any, optional: frozenset[str] = frozenset()) -> list[str]:
    """Schema violations of ``body``, but for a missing ``@type`` (the server names the type) or a
    missing top-level attribute named in ``optional`` (the server sets it): ``lenient.py``."""
    validator = lenient_validator(contract, definition, optional)
    if validator.is_valid(body):
        return []
    problems = []
    for err in validator.iter_errors(body):
        where = ".".join(str(p) for p in err.instance_path) or "(body)"
        problems.append(f"{where}: {err.message}")
        if len(problems) >= 5:
            break
    return problems


def without(body: Doc, paths: frozenset[str]) -> Doc:
    """``body`` less the attributes at ``paths`` (dotted; arrays are walked through), a copy where
    something is dropped."""
    if not paths:
        return body
    here = {p for p in paths if "." not in p}
    below: dict[str, set[str]] = {}
    for p in paths - here:
        head, rest = p.split(".", 1)
        below.setdefault(head, set()).add(rest)
    out: Doc = {}
    for key, value in body.items():
        if key in here:
            continue
        inner = frozenset(below.get(key, ()))
        if inner and type(value) is dict:
            value = without(value, inner)
        elif inner and type(value) is list:
            value = [without(v, inner) if type(v) is dict else v for v in value]
        out[key] = value
    return out


class Renditions:
    """Stored bytes -> their served rendition, up to ``budget`` bytes, the oldest dropped first.

    Rendering walks the whole document in Python (~15 µs for a 2 KB offering); the bytes of a
    document only change with a write, so the same page of a list, asked again, costs a dict lookup
    (hashing the bytes) per item instead. Only lists use it: a read by id or a write's answer is
    rendered once, and would only push the pages that are asked again out."""

    def __init__(self, budget: int = 16 << 20) -> None:
        self.budget, self.size = budget, 0
        self.found: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, raw: bytes) -> bytes | None:
        return self.found.get(raw)

    def put(self, raw: bytes, shown: bytes) -> bytes:
        cost = len(raw) + len(shown)
        if cost * 4 > self.budget:
            return shown
        while self.size + cost > self.budget and self.found:
            old, dropped = self.found.popitem(last=False)  # O(1), unlike a plain dict's first key
            self.size -= len(old) + len(dropped)
        self.found[raw] = shown
        self.size += cost
        return shown

    def take(self, raw: bytes) -> bytes | None:
        """The rendition of ``raw``, forgotten (asked for once: a write's answer)."""
        shown = self.found.pop(raw, None)
        if shown is not None:
            self.size -= len(raw) + len(shown)
        return shown


class VersionService(ResourceService):
    def __init__(self, engine: Engine, version: VersionDecl, served: str, canonical: ResourceService) -> None:
        super().__init__(engine, canonical.api, canonical.decl)
        #: a change made through this version is heard by every version's hubs, as one made through
        #: the canonical resource (the engine adds each version's listener to this same list)
        self.listeners = canonical.listeners
        self.served_api = version
        self.served_name = served
        mapping = version.maps[served]
        contract = version.contract
        schemas = contract.schemas(served)
        self.served_entity = schemas.get("entity") or served[0].upper() + served[1:]
        self.served_create = schemas.get("create") or f"{self.served_entity}_FVO"
        #: the entity's ``@type``: 639 v5 answers with ``Resource_RES``, a response form of ``Resource``
        self.served_type = self.served_entity.removesuffix("_RES")
        self.dropped = mapping.dropped
        self.optional = mapping.dropped | mapping.optional
        self.out, self.into = mapping.out, mapping.into
        # the OAS 3 files (v5) require @type on every object; a Swagger 2 file (v3, v4) on none
        plan = Plan(contract.definitions, (*version.rules, *mapping.rules), typed=contract.draft >= 7)
        self.node: Node = plan.node(self.served_entity)
        self.create_node: Node = plan.node(self.served_create) if contract.has(self.served_create) else self.node
        self.root = f"{engine.public_url}{version.root}/{served}/"
        #: the name of this version's stored renditions of the resource (``faces.py``)
        self.face = f"{version.key}.{version.version}/{served}"
        #: what stored bytes look like in this version (a pure function of them: never stale)
        self.shown = Renditions()
        #: the renditions of this service's own writes, until their answers take them
        self.written = Renditions(1 << 20)
        self._kinds: dict[tuple[str, ...], str] = {}

    @property
    def operations(self) -> frozenset[str]:
        return self.served_api.contract.served(self.served_name) or frozenset()

    # -- answers ---------------------------------------------------------------------

    def view(self, doc: Doc, fresh: bool = False) -> Doc:
        """A stored document as this version shows it (``fresh``: ``doc`` may be changed in place)."""
        out = render(self.node, doc if self.out is None else self.out(doc), fresh)
        if "id" in out:
            out["href"] = self.root + str(out["id"])
        if out.get("@type") in (self.entity, self.served_entity):
            out["@type"] = self.served_type
        return out

    def rendition(self, raw: bytes) -> bytes:
        """Stored bytes as this version's bytes (what ``faces.py`` stores)."""
        return orjson.dumps(self.view(orjson.loads(raw), fresh=True))

    def respond(self, raw: bytes, fields: frozenset[str] | None = None, shown: bytes | None = None) -> bytes:
        if fields is not None:
            return orjson.dumps(project(self.view(orjson.loads(raw), fresh=True), fields, _KEEP))
        if shown is None:  # read with its face, or written through this service just now, or neither
            shown = self.written.take(raw) or self.rendition(raw)
        return shown

    def _listed(self, raw: bytes, fields: frozenset[str] | None) -> bytes:
        if fields is not None:
            return self.respond(raw, fields)
        shown = self.shown.get(raw)
        return self.shown.put(raw, self.rendition(raw)) if shown is None else shown

    def location(self, doc: Doc) -> str:
        return self.root + str(doc["id"])

    async def get(self, id: str, party: str | None = None) -> Row:
        if not self.engine.faces.stored(self):
            return await super().get(id, party)
        row = await self.store.get_shown(self.kind, id, self.face)
        if row is None:
            raise NotFound(f"{self.name} {id!r} does not exist")
        self._check_visible(row.doc, party, id)
        return row

    async def list(self, query: Query, party: str | None = None) -> Page:
        sql, rest, order = self._indexed(query, party)
        slicer = limits.Slicer()
        if query.fields is None and not rest and order is not None and self.engine.faces.stored(self):
            total = await self.store.count(self.kind, sql)
            rows = []
            if query.offset < total:
                rows = await self.store.page_shown(self.kind, sql, order, query.offset, query.limit, self.face)
            shown_items = []  # the stored renditions, as bytes
            for raw, shown in rows:
                if shown is None:  # none stored, or of an older version of the document
                    shown = self._listed(raw, None)
                    await slicer.tick()
                shown_items.append(shown)
            return Page(total, shown_items)
        page = await self._select(replace(query, fields=None), counted=True, party=party)
        items, found, fields = [], self.shown.found, query.fields
        for raw in page.items:
            shown = found.get(raw) if fields is None else None
            if shown is None:  # rendered here: time-sliced, a page may be long
                shown = self._listed(raw, fields)
                await slicer.tick()
            items.append(shown)
        return Page(page.total, items)

    # -- queries ---------------------------------------------------------------------

    def classify(self, parts: builtins.list[str]) -> str:
        key = tuple(parts)
        kind = self._kinds.get(key)
        if kind is None:  # the served schema walked once per path (v5's are allOf-deep)
            kind = self.served_api.contract.path_kind(self.served_entity, parts)
            if len(self._kinds) < 4096:
                self._kinds[key] = kind
        return kind

    def parse(self, params: builtins.list[tuple[str, str]]) -> Query:
        """Served attribute paths and literals, mapped to the stored ones (fields stay served)."""
        query = super().parse(params)
        conditions = []
        for cond in query.conditions:
            stored, rule = path(self.node, cond.path)
            values = cond.values
            if rule is not None and rule.values:
                values = tuple(rule.reverse.get(v, v) for v in values)
            attribute = ".".join(stored)
            values = tuple(self.canonical(attribute, v) for v in values)
            conditions.append(replace(cond, path=stored, values=values))
        sort = tuple((path(self.node, p)[0], desc) for p, desc in query.sort)
        return replace(query, conditions=tuple(conditions), sort=sort)

    # -- writes ----------------------------------------------------------------------

    def _check(self, definition: str, body: Any, optional: frozenset[str] = frozenset()) -> None:
        problems = lenient_errors(self.served_api.contract, definition, body, optional)
        if problems:
            raise BadRequest(
                f"{definition} is not valid: " + "; ".join(problems),
                code="SCHEMA_VIOLATION",
                reason="Request body does not match the schema",
            )

    def stored(self, node: Node, body: Doc) -> Doc:
        """A served body (or document) in the stored shape."""
        doc = accept(node, body)
        if doc.get("@type") in (self.served_entity, self.served_type):
            doc["@type"] = self.entity
        return doc

    async def create(
        self,
        body: Any,
        keep_id: bool = False,
        unit: Unit | None = None,
        party: str | None = None,
        actor: Actor | None = None,
        checked: bool = False,
    ) -> tuple[Doc, bytes, int]:
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        body = without(body, self.dropped)
        self._check(self.served_create, body, self.optional)
        doc = self.stored(self.create_node, body)
        if self.into is not None:
            doc = self.into(doc)
        machine = self.decl.lifecycle
        state = machine.attribute if machine is not None else None
        if machine is not None and machine.initial and state not in doc and state not in self.owned_on_create:
            # where the canonical create schema requires the state and the served one does not
            # (TMF637 v4 requires a product's status, v5 not), the lifecycle's start is the answer
            doc[machine.attribute] = machine.initial  # (where the server owns the state, it sets it)
        return await super().create(doc, keep_id, unit, party, actor, checked)

    def apply_patch(self, before: Doc, patch_type: str, parsed: Any) -> Doc:
        """The patch applied to the served view of ``before``, mapped back; what it did not touch
        stays as stored (the view adds ``@type`` where the stored document has none)."""
        shown = self.view(before)
        changed = patching.apply_parsed(shown, patch_type, parsed)
        if patch_type != patching.JSON_PATCH:
            self._check(self.served_entity, changed)
        base, after = self.stored(self.node, self.view(before)), self.stored(self.node, changed)
        if self.into is not None:  # what ``out`` made of several stored attributes, made back
            base, after = self.into(base), self.into(after)
        out: Doc = {}
        for key, value in after.items():
            out[key] = before[key] if key in before and base.get(key) == value else value
        out["href"] = before.get("href", out.get("href"))
        return out

    # -- events ----------------------------------------------------------------------

    def event_type(self, stored_type: str, attributes: bool) -> str:
        """The served name of a stored event type (renamed entity; v4 TMF634's one ``…ChangeEvent``
        is v5's ``…AttributeValueChangeEvent`` or ``…StatusChangeEvent``)."""
        change = stored_type[len(self.entity) :] if stored_type.startswith(self.entity) else stored_type
        candidates = [change]
        if change == "ChangeEvent":
            candidates = ["AttributeValueChangeEvent"] if attributes else ["StateChangeEvent", "StatusChangeEvent"]
        elif change == "StateChangeEvent":
            candidates.append("StatusChangeEvent")
        known = self.served_api.contract.events
        for candidate in candidates:
            if self.served_type + candidate in known:
                return self.served_type + candidate
        return self.served_type + candidates[0]

    def shaped_event(self, event: Doc) -> Doc:
        """The v5 envelope: ``@type`` (the event's name), ``timeOccurred`` as the schema spells it,
        the payload under the served resource name, in the served shape."""
        kind = self.event_type(str(event.get("eventType", "")), bool(event.get("fieldPath")))
        doc = (event.get("event") or {}).get(self.name)
        return envelope_v5(event, kind, self.served_name, self.view(doc) if isinstance(doc, dict) else doc)


def envelope_v5(event: Doc, kind: str, name: str, doc: Any) -> Doc:
    """A stored event in the v5 envelope: ``@type`` (the event's name), ``timeOccurred`` as the
    schema spells it, the payload ``doc`` under the served resource ``name``."""
    out: Doc = {
        "@type": kind,
        "@baseType": "Event",
        "eventId": event.get("eventId"),
        "eventTime": event.get("eventTime"),
        "eventType": kind,
        "timeOccurred": event.get("timeOccurred") or event.get("timeOcurred"),
        "event": {name: doc},
    }
    if event.get("fieldPath"):
        out["fieldPath"] = event["fieldPath"]
    return out


class OwnService(ResourceService):
    """A resource only a served version has (``VersionDecl.own``): stored in that version's shape,
    with the same leniency as its mapped resources: an object of a body without ``@type`` gets the
    name of its schema (``shape.render``) before the strict checks, so what is stored is valid."""

    def __init__(self, engine: Engine, api: ApiDecl, decl: ResourceDecl) -> None:
        super().__init__(engine, api, decl)
        self.node: Node = Plan(api.contract.definitions).node(self.entity)

    def prepare_create(self, body: Any, keep_id: bool = False, party: str | None = None, checked: bool = False) -> Doc:
        return super().prepare_create(
            render(self.node, body) if isinstance(body, dict) else body, keep_id, party, checked
        )

    def apply_patch(self, before: Doc, patch_type: str, parsed: Any) -> Doc:
        return render(self.node, super().apply_patch(before, patch_type, parsed))

    def shaped_event(self, event: Doc) -> Doc:
        kind = str(event.get("eventType", ""))
        return envelope_v5(event, kind, self.name, (event.get("event") or {}).get(self.name))
