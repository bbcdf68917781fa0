"""TMF637 Product Inventory v5: the v4 products, mapped at the edge (``engine/versions.py``)."""

from __future__ import annotations

from ...engine.shape import Attr
from ...engine.versions import VersionDecl
from ..generations import V5_COMMON
from . import tmf637

API = VersionDecl.build(
    "TMF637-ProductInventory-v5.0.0.oas.yaml",
    of=tmf637.API,
    rules=[*V5_COMMON, Attr("agreementItem", canonical="agreement")],
)
