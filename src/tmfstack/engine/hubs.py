"""Event subscriptions (``/hub``) of one API: register, read, unregister."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ..clock import new_id
from ..errors import BadRequest, NotFound
from ..events.subscriptions import parse_hub_query
from ..store.base import HubRow
from .declaration import ApiDecl

if TYPE_CHECKING:
    from .registry import Engine


class HubService:
    def __init__(self, engine: Engine, api: ApiDecl) -> None:
        self.engine, self.api = engine, api
        self.event_api = f"{api.key}.{api.version}"

    def href(self, id: str) -> str:
        return f"{self.engine.public_url}{self.api.root}/hub/{id}"

    async def create(self, body: Any) -> bytes:
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", code="INVALID_BODY")
        self.api.contract.validate("EventSubscriptionInput", body)
        callback = body["callback"]
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest(f"callback must be an absolute http(s) URL, got {callback!r}", code="INVALID_CALLBACK")
        query = body.get("query") or None
        parse_hub_query(query)  # refuse a malformed query now, not at delivery time
        hub_id = new_id()
        doc = {"id": hub_id, "callback": callback}
        if query is not None:
            doc["query"] = query
        raw = orjson.dumps(doc)
        async with self.engine.store.transaction() as tx:
            await tx.insert_hub(HubRow(hub_id, self.event_api, callback, query, raw))
        return raw

    async def get(self, id: str) -> bytes:
        hub = await self.engine.store.get_hub(self.event_api, id)
        if hub is None:
            raise NotFound(f"hub {id!r} does not exist")
        return hub.doc

    async def delete(self, id: str) -> None:
        async with self.engine.store.transaction() as tx:
            if not await tx.delete_hub(self.event_api, id):
                raise NotFound(f"hub {id!r} does not exist")
