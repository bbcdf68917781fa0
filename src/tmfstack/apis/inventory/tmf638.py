"""TMF638 Service Inventory v4 (``TMF638-ServiceInventory-v4.0.0.swagger.json``).

``service`` (full CRUD) and ``hub``. ``state`` follows ``service_lifecycle.png``; a service
may be created in any state (``Service_Create`` requires ``state``)::

    feasibilityChecked ──► designed ⇄ reserved ──► inactive ⇄ active ⇄ terminated
             └──────────────┴───────────┴──────────────────►┘ (any earlier state → active)
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine

SERVICE_LIFECYCLE = StateMachine(
    "state",
    {
        "feasibilityChecked": {"designed", "reserved", "inactive", "active"},
        "designed": {"reserved", "inactive", "active"},
        "reserved": {"designed", "inactive", "active"},
        "inactive": {"active"},
        "active": {"inactive", "terminated"},
        "terminated": {"active"},
    },
)

API = ApiDecl.build(
    "tmf638",
    contract="tmf638_v4",
    name="serviceInventory",
    version="v4",
    resources=[
        ResourceDecl(
            "service",
            lifecycle=SERVICE_LIFECYCLE,
            stamp=None,
            ref_paths=("relatedParty.id", "serviceSpecification.id", "supportingResource.id", "supportingService.id"),
        )
    ],
)
