"""Which subscriptions (hubs) want an event: the hub ``query`` is a TMF630 filter on the event.

    wants("eventType=ProductOfferingStateChangeEvent&event.productOffering.lifecycleStatus=Launched", ev)

An empty query wants every event of its API. ``fields`` in a query is accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from ..errors import BadRequest
from ..tmf630 import Condition, matches, parse_filters
from ..tmf630.query import RESERVED


@lru_cache(maxsize=4096)
def parse_hub_query(query: str | None) -> tuple[Condition, ...]:
    if not query or not query.strip():
        return ()
    text = query.strip().lstrip("?")
    try:
        params = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise BadRequest(f"hub query {query!r} is not a query string such as 'eventType=X'") from None
    return parse_filters([(k, v) for k, v in params if k not in RESERVED])


def wanted_by(hubs: Sequence[Any], event: dict[str, Any]) -> list[str]:
    """Ids of the hubs whose query matches ``event``."""
    return [h.id for h in hubs if matches(event, parse_hub_query(h.query))]
