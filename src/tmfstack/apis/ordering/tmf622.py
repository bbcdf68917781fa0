"""TMF622 Product Ordering v4 (``TMF622-ProductOrder-v4.0.0.swagger.json``).

``productOrder`` (list, create, get, patch, delete), ``cancelProductOrder`` (list,
create, get), ``hub``. Accept, then decide: a schema-valid order is answered 201 in
state acknowledged and the order manager (``manager/steps.py``) validates, prices,
fulfils and rolls it up asynchronously and durably. With ``TMFSTACK_STRICT_ORDERS=1``
the same validator refuses an invalid order at once with 422. State tables in
``states.py``.
"""

from __future__ import annotations

import time
from typing import Any

from ...engine.declaration import ApiDecl, Doc, ResourceDecl
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest, Conflict, Unprocessable
from .manager.steps import CANCEL_QUEUE, ORDER_QUEUE, TASKS
from .manager.validate import validate_order
from .manager.view import CatalogView
from .states import CANCEL, ORDER, TERMINAL, check_client_move

#: what a client may still change on a submitted order (the rest is the order itself)
CLIENT_PATCHABLE = frozenset(
    {
        "note",
        "notificationContact",
        "externalId",
        "priority",
        "category",
        "description",
        "state",
        "requestedStartDate",
        "requestedCompletionDate",
        "@schemaLocation",
        "@baseType",
    }
)
#: ... and before processing started only
BEFORE_PROCESSING = frozenset({"requestedStartDate", "requestedCompletionDate"})


def _items(items: list[Any]) -> list[Doc]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            out.append(item)
            out.extend(_items(item.get("productOrderItem") or []))
    return out


def prepare_order(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    for item in _items(doc.get("productOrderItem") or []):
        if "state" in item:
            raise BadRequest(
                f"productOrderItem {item.get('id')!r}: state is set by the server", code="READ_ONLY_ATTRIBUTE"
            )
        item["state"] = "acknowledged"
    ids = [item.get("id") for item in _items(doc.get("productOrderItem") or [])]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BadRequest(f"productOrderItem ids must be unique in an order: {', '.join(map(str, duplicates))}")


def client_patch(after: Doc, before: Doc) -> None:
    if "state" in after:
        after["state"] = ORDER.canonical(after["state"])  # 400 for an unknown value, any casing
    notes_before = before.get("note") or []
    if (after.get("note") or [])[: len(notes_before)] != notes_before:
        raise Conflict(
            "notes can only be added: send the existing notes followed by the new ones", code="NOTES_APPEND_ONLY"
        )
    changed = {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
    refused = sorted(changed - CLIENT_PATCHABLE)
    if refused:
        raise BadRequest(
            f"{', '.join(refused)} cannot be changed once the order is submitted; cancel it and order again",
            code="READ_ONLY_ATTRIBUTE",
        )
    late = sorted(changed & BEFORE_PROCESSING)
    if (
        late
        and before.get("state") != "acknowledged"
        and not all(i.get("state") == "pending" for i in _items(before.get("productOrderItem") or []))
    ):
        raise Conflict(f"{', '.join(late)} can no longer change: processing has started", code="TOO_LATE")
    if before.get("state") in TERMINAL and changed - {"note"}:
        raise Conflict(f"the order is {before['state']}; only notes can be added", code="ORDER_CLOSED")
    check_client_move(before["state"], after["state"])


async def on_order_created(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    if svc.engine.options.get("strict_orders"):
        problems = await validate_order(doc, CatalogView(svc.engine, unit), doc["orderDate"])
        if problems:
            raise Unprocessable(
                "; ".join(f"{'item ' + p.item + ': ' if p.item else ''}{p.message} [{p.code}]" for p in problems),
                code="ORDER_INVALID",
            )
    await unit.schedule(ORDER_QUEUE, doc["id"], time.time())


async def on_order_updated(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
    # an operator released a held or pending order, or moved its start: look at it again
    # (the manager itself never makes these changes, so its own saves schedule nothing)
    released = before.get("state") in ("held", "pending") and after.get("state") == "inProgress"
    moved = before.get("requestedStartDate") != after.get("requestedStartDate")
    if released or (moved and after.get("state") in ("inProgress", "acknowledged")):
        await unit.schedule(ORDER_QUEUE, after["id"], time.time())


def can_delete_order(doc: Doc) -> None:
    if doc.get("state") not in TERMINAL:
        raise Conflict(f"an order that is {doc.get('state')} cannot be deleted; cancel it first", code="ORDER_OPEN")


async def on_cancel_created(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    await unit.schedule(CANCEL_QUEUE, doc["id"], time.time())


API = ApiDecl.build(
    "tmf622",
    contract="tmf622_v4",
    name="productOrderingManagement",
    version="v4",
    resources=[
        ResourceDecl(
            "productOrder",
            lifecycle=ORDER,
            stamp=None,
            created_stamp="orderDate",
            ref_paths=("relatedParty.id", "externalId", "productOrderItem.productOffering.id", "billingAccount.id"),
            server_owned=frozenset({"completionDate", "expectedCompletionDate", "cancellationDate"}),
            rules=[prepare_order],
            patch_rules=[client_patch],
            on_create=on_order_created,
            on_update=on_order_updated,
            can_delete=can_delete_order,
        ),
        ResourceDecl(
            "cancelProductOrder",
            lifecycle=CANCEL,
            ref_paths=("productOrder.id",),
            stamp=None,
            server_owned=frozenset({"effectiveCancellationDate"}),
            on_create=on_cancel_created,
        ),
    ],
    tasks=TASKS,
)
