"""The ``modify`` (changed characteristics mapped to each RFS, or the new state: inactive =
suspended), ``delete`` (termination, then the resources given back) and ``noChange`` items."""

from __future__ import annotations

from collections.abc import Callable

from ....tmf import Doc
from ...catalog.chain import map_characteristics
from ...catalog.characteristics import merge_characteristics
from ..shared import StepContext
from ..states import TERMINAL
from .activate import activate_all, held_instead
from .common import (
    WAITING,
    Result,
    inventory,
    set_state,
    supporting_rfs,
)
from .resources import resource_order


def _merging(chars: list[Doc]) -> Callable[[Doc], Doc]:
    """The update of a stored service that merges ``chars`` into its characteristics."""
    return lambda doc: {
        **doc,
        "serviceCharacteristic": merge_characteristics(doc.get("serviceCharacteristic") or [], chars),
    }


async def modify(ctx: StepContext, item: Doc) -> Result:
    target = item.get("service") or {}
    cfs = await inventory(ctx).read(target.get("id"), ctx.unit, track=True)
    if cfs is None:
        return Result("failed", f"service {target.get('id')!r} is no longer in the inventory")
    rfs_docs = await supporting_rfs(ctx, cfs)
    # None only for a service stored without a state: it is then asked for as it is
    state = target.get("state") or cfs.get("state")
    if state not in ("active", "inactive"):
        state = cfs.get("state")
    changes = target.get("serviceCharacteristic") or []
    cfs_spec = await ctx.view.service_spec((cfs.get("serviceSpecification") or {}).get("id")) or {}
    per_rfs: dict[str, list[Doc]] = {}
    for rfs in rfs_docs:
        if rfs is cfs:
            per_rfs[rfs["id"]] = changes
            continue
        rfs_spec = await ctx.view.service_spec((rfs.get("serviceSpecification") or {}).get("id")) or {}
        per_rfs[rfs["id"]] = map_characteristics(rfs_spec, cfs_spec.get("id", ""), changes, defaults=False)
    waiting = await activate_all(ctx, item, rfs_docs, state, per_rfs)
    if waiting is not None:
        return held_instead(ctx, waiting) or waiting
    for doc in [*rfs_docs, cfs] if rfs_docs and rfs_docs[0] is not cfs else [cfs]:
        chars = changes if doc is cfs else per_rfs.get(doc["id"]) or []
        if chars:
            await inventory(ctx).update(doc["id"], _merging(chars), unit=ctx.unit)
    await set_state(ctx, [*rfs_docs, cfs], state)
    return Result("completed")


async def delete(ctx: StepContext, item: Doc) -> Result:
    cfs = await inventory(ctx).read((item.get("service") or {}).get("id"), ctx.unit, track=True)
    if cfs is None:
        return Result("failed", "the service is no longer in the inventory")
    if cfs.get("state") == "terminated":
        return Result("completed")
    rfs_docs = await supporting_rfs(ctx, cfs)
    waiting = await activate_all(ctx, item, rfs_docs, "terminated")
    if waiting is not None:
        return held_instead(ctx, waiting) or waiting
    order = await resource_order(ctx, item, rfs_docs, "release", "delete")
    if order is not None and order["state"] not in TERMINAL:
        return Result(WAITING)
    await set_state(ctx, [*rfs_docs, cfs], "terminated")
    return Result("completed")


async def no_change(ctx: StepContext, item: Doc) -> Result:
    return Result("completed")
