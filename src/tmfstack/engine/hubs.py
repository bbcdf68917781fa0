"""Event subscriptions (``/hub``) of one API: register, read, unregister."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ..clock import new_id
from ..errors import BadRequest, NotFound
from ..events.subscriptions import parse_hub_query
from ..net.outbound import AddressPolicy, check_destination
from ..store.base import HubRow
from .declaration import ApiDecl

if TYPE_CHECKING:
    from .registry import Engine


class HubService:
    def __init__(self, engine: Engine, api: ApiDecl) -> None:
        self.engine, self.api = engine, api
        self.event_api = f"{api.key}.{api.version}"
        #: where callbacks may point (checked again at every delivery, on the address connected to)
        self.outbound = AddressPolicy.parse(engine.settings.allow_private_callbacks)

    def href(self, id: str) -> str:
        return f"{self.engine.public_url}{self.api.root}/hub/{id}"

    async def create(self, body: Any, client_id: str | None = None, party: str | None = None) -> bytes:
        """Register a subscription for ``client_id``; a partner's (``party``) hears only of its own resources."""
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        self.api.contract.validate("EventSubscriptionInput", body)
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
        raw = orjson.dumps(doc)
        async with self.engine.store.transaction() as tx:
            await tx.insert_hub(HubRow(hub_id, self.event_api, callback, query, raw, client_id, party))
        return raw

    async def get(self, id: str, party: str | None = None) -> bytes:
        hub = await self.engine.store.get_hub(self.event_api, id)
        if hub is None or (party is not None and hub.party != party):
            raise NotFound(f"hub {id!r} does not exist")
        return hub.doc

    async def delete(self, id: str, party: str | None = None) -> None:
        await self.get(id, party)  # a partner removes only its own subscriptions
        async with self.engine.store.transaction() as tx:
            if not await tx.delete_hub(self.event_api, id):
                raise NotFound(f"hub {id!r} does not exist")
