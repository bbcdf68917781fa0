"""TMF622 Product Ordering v4 (``TMF622-ProductOrder-v4.0.0.swagger.json``).

``productOrder`` (list, create, get, patch, delete), ``cancelProductOrder`` (list,
create, get), ``hub``. Accept, then decide: a schema-valid order is answered 201 in
state acknowledged and the order manager (``product/steps.py``) validates, prices,
fulfils and rolls it up asynchronously and durably. With ``TMFSTACK_STRICT_ORDERS=1``
the same validator refuses an invalid order at once with 422. Submitted prices are checked
against the catalog at once (``product/submitted.py``). State tables in ``states.py``.
"""

from __future__ import annotations

import time

from ...engine.access import partner_of
from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest, Conflict, Unprocessable
from ...tmf import Doc
from ..catalog.rules import walk_items
from ..catalog.view import CatalogView
from ..qualification.interface import validate_order
from .product.submitted import check_prices, use_catalog_prices
from .product.tasks import CANCEL_QUEUE, ORDER_QUEUE, TASKS
from .rules import can_delete, check_items, client_patch, schedule_on_create
from .states import CANCEL, ORDER

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


def prepare_order(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    items = list(walk_items(doc.get("productOrderItem") or []))
    for item in items:
        if "state" in item:
            raise BadRequest(
                f"productOrderItem {item.get('id')!r}: state is set by the server", code="READ_ONLY_ATTRIBUTE"
            )
        item["state"] = "acknowledged"
    check_items(items, "productOrderItem")


def not_too_late(after: Doc, before: Doc, changed: set[str]) -> None:
    late = sorted(changed & BEFORE_PROCESSING)
    if (
        late
        and before.get("state") != "acknowledged"
        and not all(i.get("state") == "pending" for i in walk_items(before.get("productOrderItem") or []))
    ):
        raise Conflict(f"{', '.join(late)} can no longer change: processing has started", code="TOO_LATE")


async def check_submitted_prices(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    """Prices come from the catalog (``product/submitted.py``): a disagreeing order is refused
    (422 PRICE_MISMATCH) or, with TMFSTACK_SUBMITTED_PRICES=catalog, stored at the catalog's prices."""
    problems, catalog = await check_prices(doc, CatalogView(svc.engine, unit, partner_of(doc)))
    if not problems:
        return
    if svc.engine.domain.submitted_prices == "catalog":
        use_catalog_prices(doc, catalog, problems)
        return
    raise Unprocessable("submitted prices disagree with the catalog: " + "; ".join(problems), code="PRICE_MISMATCH")


async def on_order_created(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    if svc.engine.domain.strict_orders:
        problems = await validate_order(doc, CatalogView(svc.engine, unit, partner_of(doc)), doc["orderDate"])
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


API = ApiDecl.build(
    "TMF622-ProductOrder-v4.0.0.swagger.json",
    partner_access="write",
    resources=[
        ResourceDecl(
            "productOrder",
            lifecycle=ORDER,
            created_stamp="orderDate",
            ref_paths=("relatedParty.id", "externalId", "productOrderItem.productOffering.id", "billingAccount.id"),
            server_owned=frozenset({"completionDate", "expectedCompletionDate", "cancellationDate"}),
            rules=[prepare_order],
            before_insert=check_submitted_prices,
            patch_rules=[client_patch(CLIENT_PATCHABLE, not_too_late)],
            on_create=on_order_created,
            on_update=on_order_updated,
            can_delete=can_delete,
        ),
        ResourceDecl(
            "cancelProductOrder",
            refers_to=("productOrder.id", "productOrder"),
            lifecycle=CANCEL,
            ref_paths=("productOrder.id",),
            server_owned=frozenset({"effectiveCancellationDate"}),
            on_create=schedule_on_create(CANCEL_QUEUE),
        ),
    ],
    tasks=TASKS,
)
