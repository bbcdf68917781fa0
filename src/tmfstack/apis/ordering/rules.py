"""Client rules shared by the TMF641 service and TMF652 resource order declarations.

Accept, then decide (as for product orders): a schema-valid order is stored acknowledged,
its items acknowledged, and its manager's step is scheduled. A client may afterwards add
notes, change descriptive attributes, and hold / release the order (inProgress ⇄ held,
pending); everything else is the manager's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from ... import limits
from ...engine.declaration import Rule
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest, Conflict
from ...tmf import Doc
from .states import TERMINAL, check_client_move

PATCHABLE = frozenset(
    {
        "note",
        "externalId",
        "priority",
        "category",
        "description",
        "name",
        "state",
        "notificationContact",
        "@schemaLocation",
    }
)


def prepare_items(key: str) -> Rule:
    def rule(doc: Doc, before: Doc | None) -> None:
        if before is not None:
            return
        items = [i for i in doc.get(key) or [] if isinstance(i, dict)]
        for item in items:
            if "state" in item:
                raise BadRequest(f"{key} {item.get('id')!r}: state is set by the server", code="READ_ONLY_ATTRIBUTE")
            item["state"] = "acknowledged"
        if any(i.get("id") is None for i in items):
            raise BadRequest(f"every {key} needs an id", code="MISSING_ATTRIBUTE")
        check_items(items, key)
        if not items:
            raise BadRequest(f"an order needs at least one {key}", code="MISSING_ATTRIBUTE")

    return rule


def check_items(items: list[Doc], key: str) -> None:
    """An order's items (nested ones included) in one O(n) pass: how many, their ids (the id rule,
    unique) and quantities, each within ``limits`` (a 400 beyond)."""
    bound = limits.current
    if len(items) > bound.order_items:
        raise BadRequest(
            f"an order holds at most {bound.order_items} {key}s (nested ones included), got {len(items)}",
            code="TOO_MANY_ITEMS",
        )
    counts: Counter[str] = Counter()
    for item in items:
        if item.get("id") is not None:
            counts[limits.check_id(item["id"], f"{key} id")] += 1
        quantity = item.get("quantity")
        if isinstance(quantity, (int, float)) and quantity > bound.quantity:
            raise BadRequest(
                f"{key} {item.get('id')!r}: quantity {quantity} is more than the limit of {bound.quantity}",
                code="QUANTITY_TOO_LARGE",
            )
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise BadRequest(f"{key} ids must be unique in an order: {', '.join(duplicates[:20])}")


def client_patch(patchable: frozenset[str], extra: Callable[[Doc, Doc, set[str]], None] | None = None) -> Rule:
    """What a client may change on a submitted order: ``patchable`` attributes, notes only
    appended, and the state only by the client moves (``states.check_client_move``);
    ``extra(after, before, changed)`` adds an API's own rule (e.g. TMF622's dates)."""

    def rule(after: Doc, before: Doc | None) -> None:
        assert before is not None
        notes_before = before.get("note") or []
        if (after.get("note") or [])[: len(notes_before)] != notes_before:
            raise Conflict(
                "notes can only be added: send the existing notes followed by the new ones", code="NOTES_APPEND_ONLY"
            )
        changed = {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
        refused = sorted(changed - patchable)
        if refused:
            raise BadRequest(
                f"{', '.join(refused)} cannot be changed once the order is submitted; cancel it and order again",
                code="READ_ONLY_ATTRIBUTE",
            )
        if extra is not None:
            extra(after, before, changed)
        if before.get("state") in TERMINAL and changed - {"note"}:
            raise Conflict(f"the order is {before['state']}; only notes can be added", code="ORDER_CLOSED")
        check_client_move(before["state"], after["state"])

    return rule


def schedule_on_create(queue: str) -> Callable[[ResourceService, Unit, Doc], Any]:
    async def hook(svc: ResourceService, unit: Unit, doc: Doc) -> None:
        await unit.schedule(queue, doc["id"], time.time())

    return hook


def schedule_on_release(queue: str) -> Callable[[ResourceService, Unit, Doc, Doc], Any]:
    async def hook(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
        if before.get("state") in ("held", "pending") and after.get("state") == "inProgress":
            await unit.schedule(queue, after["id"], time.time())

    return hook


def can_delete(doc: Doc) -> None:
    if doc.get("state") not in TERMINAL:
        raise Conflict(f"an order that is {doc.get('state')} cannot be deleted; cancel it first", code="ORDER_OPEN")
