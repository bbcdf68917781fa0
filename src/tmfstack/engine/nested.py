"""Sub-resources: ``<root>/<parent>/<parentId>/<child>[/<id>]`` (TMF688 ``/topic/{topicId}/event``).

A sub-resource is declared like any resource, with ``ResourceDecl(parent=...)``, and stored
under its own kind. Its documents carry no attribute naming the parent (the specs define none):
the parent's id is read from the document's ``href`` (``…/<parent>/<parentId>/<child>/<id>``,
which the server owns) and kept in the reference index under ``PARENT_PATH``, so one parent's
list is an indexed SQL condition like any other, with TMF630 filters, paging and counts.

The router serves a parent's collection through ``ChildService.under(parent_id)``, a view that
lists, reads, changes and deletes only that parent's children (another parent's child is a 404).
A parent's own subscriptions (``/topic/{topicId}/hub``) are hubs scoped to that parent
(``HubService.scoped``); ``publish`` delivers a payload to them through the outbox.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson

from ..clock import new_id
from ..errors import NotFound
from ..events.subscriptions import wanted_by
from ..store.base import REF, Indexed, SqlCond
from ..tmf import Doc
from . import access
from .declaration import ApiDecl, ResourceDecl
from .service import ResourceService
from .unit import Unit

if TYPE_CHECKING:
    from .core import Engine

#: the reference-index path holding a sub-resource's parent id (no document attribute has this name)
PARENT_PATH = "@parent"


def scope(parent: str, parent_id: str) -> str:
    """The path of one parent below the API root: what a parent's hubs and children hang off."""
    return f"/{parent}/{parent_id}"


def parent_of(href: object, parent: str, child: str) -> str | None:
    """The parent id in a sub-resource's href ``…/<parent>/<parentId>/<child>/<id>``."""
    if not isinstance(href, str):
        return None
    parts = href.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-4] == parent and parts[-2] == child:
        return parts[-3]
    return None


class ChildService(ResourceService):
    """The service of a sub-resource; ``under(parent_id)`` is one parent's collection."""

    parent_id: str | None = None

    def __init__(self, engine: Engine, api: ApiDecl, decl: ResourceDecl) -> None:
        if decl.parent is None or decl.parent not in api.resources:
            raise ValueError(f"{api.key}: {decl.path} needs its parent {decl.parent!r} declared too")
        super().__init__(engine, api, decl)
        self.parent: str = decl.parent

    def under(self, parent_id: str) -> ChildService:
        """This service restricted to the children of ``parent_id`` (a shallow copy: cheap per request)."""
        view = copy.copy(self)
        view.parent_id = parent_id
        return view

    @property
    def scope(self) -> str:
        if self.parent_id is None:
            raise RuntimeError(f"{self.decl.path} is used under a parent: call under(parent_id) first")
        return scope(self.parent, self.parent_id)

    @property
    def ref_marker(self) -> str:
        return ",".join(p for p in (super().ref_marker, PARENT_PATH) if p)

    def href(self, id: str) -> str:
        return f"{self.engine.public_url}{self.api.root}{self.scope}/{self.name}/{id}"

    def indexed(self, doc: Doc) -> Indexed:
        idx = super().indexed(doc)
        parent_id = parent_of(doc.get("href"), self.parent, self.name)
        if parent_id is None:
            return idx
        return replace(idx, refs=tuple(sorted({*(idx.refs or ()), (PARENT_PATH, parent_id)})))

    def _seen_by(self, party: str | None) -> list[SqlCond]:
        narrowed = super()._seen_by(party)
        if self.parent_id is not None:
            narrowed.append(SqlCond(REF + PARENT_PATH, "eq", (self.parent_id,)))
        return narrowed

    def _check_visible(self, doc: Doc | bytes, party: str | None, id: str) -> None:
        """Another parent's child is not there (a 404, as for one the caller may not see)."""
        super()._check_visible(doc, party, id)
        if self.parent_id is not None:
            found = orjson.loads(doc) if isinstance(doc, bytes) else doc
            if parent_of(found.get("href"), self.parent, self.name) != self.parent_id:
                raise NotFound(f"{self.name} {id!r} does not exist")


def service_for(engine: Engine, api: ApiDecl, decl: ResourceDecl) -> ResourceService:
    """The service of a declared resource: a ``ChildService`` for a sub-resource."""
    return ChildService(engine, api, decl) if decl.parent else ResourceService(engine, api, decl)


async def publish(svc: ChildService, unit: Unit, event_type: str, payload: Doc) -> None:
    """Deliver ``payload`` to the hubs of ``svc``'s parent (``/<parent>/<id>/hub``) whose query it
    matches, in ``unit``'s transaction (the outbox: committed with the write, delivered after)."""
    event_api = f"{svc.event_api}{svc.scope}"
    hubs = await unit.subscriptions(event_api)
    if svc.isolated:  # a partner's hub hears only of what the partner may see
        hubs = [h for h in hubs if access.visible(payload, h.party)]
    wanted = wanted_by(hubs, payload)
    if wanted:
        await unit.tx.add_event(event_api, new_id(), event_type, orjson.dumps(payload), wanted)
        unit.deliveries += len(wanted)
