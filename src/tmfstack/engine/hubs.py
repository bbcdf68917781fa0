"""Event subscriptions (``/hub``) of one API: register, read, unregister.

A callback is a URL the server will POST to, so it is checked when registered (the outbound
guard's rules, never the server itself) and again at every delivery. Each client may hold
``TMFSTACK_HUB_LIMIT`` subscriptions per API. Registration makes the hub's signing secret
(``events/signing.py``): answered once, stored sealed, never shown again."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ..clock import new_id
from ..errors import BadRequest, NotFound, Unprocessable
from ..events.signing import new_secret, seal
from ..events.subscriptions import parse_hub_query
from ..net.outbound import check_destination
from ..store.base import HubRow
from .declaration import ApiDecl

if TYPE_CHECKING:
    from .core import Engine


class HubService:
    def __init__(self, engine: Engine, api: ApiDecl) -> None:
        self.engine, self.api = engine, api
        self.event_api = f"{api.key}.{api.version}"
        #: where callbacks may point (checked again at every delivery, on the address connected to)
        self.outbound = engine.settings.outbound_policy()
        #: "" for the API's /hub, "/topic/<id>" for one parent's (engine/nested.py)
        self.scope = ""
        #: v4: EventSubscriptionInput in, EventSubscription out; v5: Hub_FVO in, Hub (href, @type) out
        self.input_def = api.contract.schemas("hub").get("create") or (
            "Hub_FVO" if api.contract.has("Hub_FVO") else "EventSubscriptionInput"
        )
        self.typed = self.input_def == "Hub_FVO"

    def scoped(self, scope: str) -> HubService:
        """The hubs of one parent (``/topic/{topicId}/hub``): their own event API, their own href;
        the body is the spec's ``Hub_Create`` where it defines one."""
        view = copy.copy(self)
        view.scope, view.event_api = scope, f"{self.event_api}{scope}"
        if self.api.contract.has("Hub_Create"):
            view.input_def = "Hub_Create"
        return view

    def href(self, id: str) -> str:
        return f"{self.engine.public_url}{self.api.root}{self.scope}/hub/{id}"

    async def create(self, body: Any, client_id: str | None = None, party: str | None = None) -> tuple[bytes, str]:
        """Register a subscription for ``client_id``; a partner's (``party``) hears only of its own
        resources. Returns the hub's document and its signing secret (shown this once)."""
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        if self.typed:  # the server names the type (tmf-conventions §10.12): only the rest is checked
            body = {"@type": "Hub", **body}
        self.api.contract.validate(self.input_def, body)
        callback = body["callback"]
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest(f"callback must be an absolute http(s) URL, got {callback!r}", code="INVALID_CALLBACK")
        check_destination(callback, self.outbound, code="INVALID_CALLBACK")
        query = body.get("query") or None
        parse_hub_query(query)  # refuse a malformed query now, not at delivery time
        hub_id = new_id()
        doc = {"id": hub_id, "callback": callback}
        if query is not None:
            doc["query"] = query
        if self.typed:
            doc.update({"href": self.href(hub_id), "@type": "Hub"})
        raw = orjson.dumps(doc)
        secret = new_secret()
        sealed = seal(secret, self.engine.settings.key_passphrase)
        limit = self.engine.settings.hub_limit
        async with self.engine.store.transaction() as tx:
            # a client's hubs are bounded: each one costs a delivery per event (--no-auth: local experiments)
            if (
                self.engine.settings.auth
                and client_id is not None
                and await tx.count_hubs(self.event_api, client_id) >= limit
            ):
                raise Unprocessable(
                    f"client {client_id} already has {limit} subscriptions on this API; remove one first",
                    code="HUB_LIMIT",
                )
            await tx.insert_hub(HubRow(hub_id, self.event_api, callback, query, raw, client_id, party, sealed))
        return raw, secret

    async def get(self, id: str, party: str | None = None) -> bytes:
        hub = await self.engine.store.get_hub(self.event_api, id)
        if hub is None or (party is not None and hub.party != party):
            raise NotFound(f"hub {id!r} does not exist")
        return hub.doc

    async def list(self, party: str | None = None) -> list[bytes]:
        """The subscriptions of this scope (a partner's own only)."""
        async with self.engine.store.transaction() as tx:
            found = await tx.hubs(self.event_api)
        return [h.doc for h in found if party is None or h.party == party]

    async def delete(self, id: str, party: str | None = None) -> None:
        await self.get(id, party)  # a partner removes only its own subscriptions
        async with self.engine.store.transaction() as tx:
            if not await tx.delete_hub(self.event_api, id):
                raise NotFound(f"hub {id!r} does not exist")
