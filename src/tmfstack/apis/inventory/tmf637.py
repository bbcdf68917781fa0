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
administration) go through the same lifecycle checks, and a new product's parties, when
the server knows them (TMF632/TMF669), must be active and of the type the reference claims.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.ownership import Ownership
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import Unprocessable
from ...tmf import Doc
from ..party.directory import Directory

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


#: a client records a product only as ``created`` and no order's; once an order made it or it
#: left ``created``, status, owner, prices, characteristics, relationships are the order manager's
#: (characteristic changes are ``modify`` orders: they reach the services and the network)
PRODUCT_OWNERSHIP = Ownership(free_states={"created"}, client_attrs={"name"}, order_marks=("productOrderItem",))


async def check_parties(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    problems = await Directory(svc.engine, unit).problems(doc.get("relatedParty"))
    if problems:
        code = problems[0][0]
        raise Unprocessable(" ".join(message for _, message in problems), code=code)


API = ApiDecl.build(
    "TMF637-ProductInventory-v4.0.0.swagger.json",
    partner_access="read",
    resources=[
        ResourceDecl(
            "product",
            lifecycle=PRODUCT_LIFECYCLE,
            ref_paths=("relatedParty.id", "productOffering.id", "productOrderItem.productOrderId", "billingAccount.id"),
            before_insert=check_parties,
            ownership=PRODUCT_OWNERSHIP,
        )
    ],
)
