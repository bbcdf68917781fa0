"""TMF637 Product Inventory v4 (``TMF637-ProductInventory-v4.0.0.swagger.json``).

``product`` (full CRUD) and ``hub``. ``status`` follows the TMF637 product lifecycle
(``LifeCycle_Product.png``); the spec's enum spells one value ``"aborted "`` with a
trailing space, and tmfstack emits it exactly so that responses validate::

    created ──► active ◄──► suspended
       │          │  ╲          │
       │          │   ╲         ▼
       ▼          ▼    ► pendingTerminate ──► terminated
    pendingActive ──► active / "aborted " / cancelled

Products are normally written by the order manager; direct writes (migrations,
administration) go through the same lifecycle checks.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine

ABORTED = "aborted "  # sic: the spec's ProductStatusType value

PRODUCT_LIFECYCLE = StateMachine(
    "status",
    {
        "created": {"active", "pendingActive", "cancelled"},
        "pendingActive": {"active", ABORTED, "cancelled"},
        "active": {"suspended", "pendingTerminate", "terminated"},
        "suspended": {"active", "pendingTerminate", "terminated"},
        "pendingTerminate": {"terminated"},
        "terminated": set(),
        "cancelled": set(),
        ABORTED: set(),
    },
    initial="created",
)

API = ApiDecl.build(
    "tmf637",
    contract="tmf637_v4",
    name="productInventory",
    version="v4",
    resources=[
        ResourceDecl(
            "product",
            lifecycle=PRODUCT_LIFECYCLE,
            stamp=None,
            ref_paths=("relatedParty.id", "productOffering.id", "productOrderItem.productOrderId", "billingAccount.id"),
        )
    ],
)
