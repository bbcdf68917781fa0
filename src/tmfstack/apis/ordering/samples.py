"""Create bodies the ordering rules accept, for the generic API tests (``ResourceDecl.sample``):
the schema requires no item, the rules want at least one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.service import ResourceService


async def resource_order(svc: ResourceService) -> Doc:
    return {"orderItem": [{"id": "1", "action": "add"}]}
