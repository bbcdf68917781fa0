"""Create bodies the inventory rules accept, for the generic API tests (``ResourceDecl.sample``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.service import ResourceService


async def availability_check(svc: ResourceService) -> Doc:
    """A check needs a pool that exists: one is made for it."""
    pool, _, _ = await svc.engine.services[svc.api.root]["resourcePool"].create({})
    return {"resourceCapacityDemand": {"resourcePool": {"id": pool["id"]}, "capacityDemandAmount": 1}}
