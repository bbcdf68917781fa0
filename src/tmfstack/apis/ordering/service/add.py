"""The ``add`` item: design the CFS and the RFS it relies on (TMF638 ``designed``), order
their resources, activate each RFS and make the services ``active``; each phase is
recognised from what exists, so a replayed step continues where the committed state is.
``undo_add`` compensates a failed or cancelled add."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....clock import now_iso
from ....engine.access import with_partner
from ....tmf import Doc, ref
from ...catalog.chain import map_characteristics
from ...documents import customer_of
from ..shared import (
    StepContext,
    ensure,
    stable_id,
)
from ..states import TERMINAL
from .activate import activate_all, held_instead
from .common import (
    WAITING,
    Result,
    activations,
    inventory,
    set_state,
    supporting_rfs,
)
from .resources import attach_resources, held_resources, resource_failure, resource_order

if TYPE_CHECKING:
    pass


async def _plan(ctx: StepContext, item: Doc, spec: Doc, cfs_id: str) -> tuple[Doc, list[Doc]]:
    """The CFS and the RFS it relies on, as TMF638 documents (``designed``), not yet written.
    A directly ordered RFS is its own plan (no separate RFS list)."""
    wanted = item.get("service") or {}
    chars = wanted.get("serviceCharacteristic") or []
    party = customer_of(ctx.order)
    parties = with_partner([party] if party else [], ctx.order)
    back = [{"serviceOrderId": ctx.order["id"], "itemId": item["id"], "itemAction": "add", "role": "creates"}]
    rfs_specs = await ctx.view.rfs_of(spec)
    direct = rfs_specs == [spec]
    rfs_docs = []
    if not direct:
        for rfs_spec in rfs_specs:
            rfs_id = stable_id(cfs_id, rfs_spec["id"])
            rfs_docs.append(
                {
                    "id": rfs_id,
                    "href": inventory(ctx).href(rfs_id),
                    "name": rfs_spec.get("name"),
                    "category": "ResourceFacingService",
                    "state": "designed",
                    "isServiceEnabled": False,
                    "hasStarted": False,
                    "serviceSpecification": ref(rfs_spec, "ResourceFacingServiceSpecification"),
                    "serviceCharacteristic": map_characteristics(rfs_spec, spec["id"], chars),
                    "relatedParty": parties,
                    "serviceOrderItem": back,
                    "@type": "ResourceFacingService",
                }
            )
    kind = "ResourceFacingService" if direct else "CustomerFacingService"
    cfs = {
        "id": cfs_id,
        "href": inventory(ctx).href(cfs_id),
        "name": wanted.get("name") or spec.get("name"),
        "category": kind,
        "state": "designed",
        "isServiceEnabled": False,
        "hasStarted": False,
        "serviceSpecification": ref(spec, spec.get("@type") or "ServiceSpecification"),
        "serviceCharacteristic": chars,
        "relatedParty": parties,
        "serviceOrderItem": back,
        "supportingService": [ref(r, "ResourceFacingService") for r in rfs_docs],
        "@type": kind,
    }
    if wanted.get("relatedEntity"):
        cfs["relatedEntity"] = wanted["relatedEntity"]
    return cfs, rfs_docs


async def _write(ctx: StepContext, docs: list[Doc], state: str) -> list[Doc]:
    """Create planned services in ``state`` (with its dates); returns what was stored."""
    out = []
    for doc in docs:
        body = {k: v for k, v in doc.items() if k != "href"}
        body["state"] = state
        if state == "active":
            body.update(isServiceEnabled=True, hasStarted=True, startDate=now_iso())
        stored, _ = await ensure(ctx.unit, inventory(ctx), body)
        out.append(stored)
    return out


async def add(ctx: StepContext, item: Doc) -> Result:
    target = item.setdefault("service", {})
    spec = await ctx.view.service_spec((target.get("serviceSpecification") or {}).get("id"))
    if spec is None:
        return Result("failed", "its service specification no longer exists")
    cfs_id = stable_id(ctx.order["id"], item["id"], "service")
    target.update(id=cfs_id, href=inventory(ctx).href(cfs_id))
    cfs = await inventory(ctx).read(cfs_id, ctx.unit, track=True)
    if cfs is None:
        return await _add_first(ctx, item, spec, cfs_id)
    # a later look (after waiting, a crash, or an operator's release): go on from the stored phase
    rfs_docs = await supporting_rfs(ctx, cfs)
    if any(r.get("state") == "designed" for r in rfs_docs):
        order = await resource_order(ctx, item, rfs_docs, "resources", "add")
        if order is not None:
            if order["state"] not in TERMINAL:
                return Result(WAITING)
            if order["state"] != "completed":
                await set_state(ctx, [*rfs_docs, cfs], "terminated")
                return Result("failed", resource_failure(order))
        rfs_docs = await attach_resources(ctx, rfs_docs, order or {})
    if cfs.get("state") == "active":
        return Result("completed")
    waiting = await activate_all(ctx, item, rfs_docs, "active")
    if waiting is not None:
        if waiting.state == "failed":
            return await _fail_add(ctx, item, cfs, rfs_docs, waiting.reason)
        return waiting
    await set_state(ctx, [*rfs_docs, cfs], "active")
    return Result("completed")


async def _add_first(ctx: StepContext, item: Doc, spec: Doc, cfs_id: str) -> Result:
    """The first look at an add: resources and activations are asked at once, and services are
    written once, in the state they reach in this step (active when everything answered at once;
    designed / reserved when something is still to come, so a later look knows the phase)."""
    cfs, rfs_docs = await _plan(ctx, item, spec, cfs_id)
    on_network = rfs_docs or [cfs]
    order = await resource_order(ctx, item, on_network, "resources", "add")
    if order is not None and order["state"] not in TERMINAL:
        await _write(ctx, [*rfs_docs, cfs], "designed")
        return Result(WAITING)
    if order is not None and order["state"] != "completed":
        for key in ("id", "href"):  # nothing was designed: the line names no service, nothing to undo
            item["service"].pop(key, None)
        return Result("failed", resource_failure(order))
    for rfs in on_network:
        held = held_resources(order or {}, rfs["id"])
        if held:
            rfs.update(supportingResource=held, state="reserved")
    waiting = await activate_all(ctx, item, on_network, "active")
    if waiting is None:
        await _write(ctx, [*rfs_docs, cfs] if rfs_docs else [cfs], "active")
        return Result("completed")
    stored = await _write(ctx, rfs_docs, "reserved")
    cfs_doc = (await _write(ctx, [cfs], "reserved" if not rfs_docs else "designed"))[0]
    if waiting.state == "failed":
        return await _fail_add(ctx, item, cfs_doc, stored or [cfs_doc], waiting.reason)
    return waiting


async def _fail_add(ctx: StepContext, item: Doc, cfs: Doc, rfs_docs: list[Doc], reason: str) -> Result:
    held = held_instead(ctx, Result("failed", reason))
    if held is not None:
        return held
    await undo_add(ctx, item, cfs, rfs_docs)
    return Result("failed", f"{reason}; resources given back, services terminated")


async def undo_add(ctx: StepContext, item: Doc, cfs: Doc, rfs_docs: list[Doc]) -> None:
    """Compensate an add: deactivate what was activated, give resources back, terminate services."""
    for rfs in rfs_docs:
        activation = await activations(ctx).read(rfs["id"], ctx.unit, track=True)
        if activation is not None and activation.get("state") != "terminated":
            await activations(ctx).update(rfs["id"], lambda d: {**d, "state": "terminated"}, unit=ctx.unit)
    await resource_order(ctx, item, rfs_docs, "release", "delete")
    await set_state(ctx, [*rfs_docs, cfs], "terminated")
