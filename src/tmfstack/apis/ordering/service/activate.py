"""Activations of a service order item's RFS (TMF640): request a state, read the outcome,
and hold instead of failing when ``activation_failure = "hold"``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....tmf import Doc
from ...activation.interface import latest_monitor
from ...catalog.characteristics import merge_characteristics
from ..shared import (
    StepContext,
    ensure,
)
from .common import (
    WAITING,
    Result,
    activations,
)

if TYPE_CHECKING:
    pass


async def request(ctx: StepContext, item: Doc, rfs: Doc, state: str | None, chars: list[Doc] | None = None) -> Doc:
    """Ask TMF640 for ``rfs`` in ``state`` (with ``chars`` merged), once per service order item."""
    mine = {"serviceOrderId": ctx.order["id"], "itemId": item["id"], "itemAction": item["action"], "role": "requests"}
    current = await activations(ctx).read(rfs["id"], ctx.unit, track=True)
    if current is None:
        body = {
            "id": rfs["id"],
            "name": rfs.get("name"),
            "category": "ResourceFacingService",
            "state": state,
            "serviceSpecification": rfs["serviceSpecification"],
            "serviceCharacteristic": rfs.get("serviceCharacteristic") or [],
            "supportingResource": rfs.get("supportingResource") or [],
            "relatedParty": rfs.get("relatedParty") or [],
            "serviceOrderItem": [mine],
            "@type": "ResourceFacingService",
        }
        created, _ = await ensure(ctx.unit, activations(ctx), body)
        return created
    if any(
        o.get("serviceOrderId") == mine["serviceOrderId"] and o.get("itemId") == mine["itemId"]
        for o in current.get("serviceOrderItem") or []
    ):
        return current  # already requested by this item

    def change(doc: Doc) -> Doc:
        doc["state"] = state
        if chars:
            doc["serviceCharacteristic"] = merge_characteristics(doc.get("serviceCharacteristic") or [], chars)
        doc["serviceOrderItem"] = [*(doc.get("serviceOrderItem") or []), mine]
        return doc

    updated, _, _ = await activations(ctx).update(rfs["id"], change, unit=ctx.unit)
    return updated


async def activation_status(ctx: StepContext, activation: Doc) -> tuple[str, str]:
    """("done" | "waiting" | "failed", message) of a service's latest activation request."""
    monitor = await latest_monitor(ctx.engine, activation["href"], ctx.unit)
    if monitor is None:
        return "done", ""  # a first request answered at once with success has no monitor
    if monitor["state"] == "inProgress":
        return "waiting", ""
    if monitor["state"] == "completed":
        return "done", ""
    body = (monitor.get("response") or {}).get("body") or ""
    return "failed", f"activation of {activation.get('name')} failed: {body}"


async def activate_all(
    ctx: StepContext, item: Doc, rfs_docs: list[Doc], state: str | None, chars: dict[str, list[Doc]] | None = None
) -> Result | None:
    """Request and await ``state`` for every RFS; None when all are done, else the item's Result."""
    statuses = []
    for rfs in rfs_docs:
        activation = await request(ctx, item, rfs, state, (chars or {}).get(rfs["id"]))
        statuses.append(await activation_status(ctx, activation))
    failed = [m for s, m in statuses if s == "failed"]
    if any(s == "waiting" for s, _ in statuses):
        return Result(WAITING)
    if failed:
        return Result("failed", "; ".join(failed))
    return None


def held_instead(ctx: StepContext, result: Result) -> Result | None:
    """A failed activation holds the item for an operator when so configured (else None)."""
    if result.state == "failed" and ctx.engine.domain.activation_failure == "hold":
        return Result("held", f"{result.reason}; resume (PATCH state inProgress) to retry, or cancel")
    return None
