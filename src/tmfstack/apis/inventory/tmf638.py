"""TMF638 Service Inventory v4 (``TMF638-ServiceInventory-v4.0.0.swagger.json``).

``service`` (full CRUD) and ``hub``. ``state`` follows ``service_lifecycle.png``; a service
may be created in any state (``Service_Create`` requires ``state``)::

    feasibilityChecked ──► designed ⇄ reserved ──► inactive ⇄ active ⇄ terminated
             └──────────────┴───────────┴──────────────────►┘ (any earlier state → active)

plus designed/reserved/inactive → terminated: a service designed for an order that failed or
was cancelled, or a suspended one that is ceased, ends terminated and keeps its history.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.ownership import Ownership

SERVICE_LIFECYCLE = StateMachine(
    "state",
    {
        "feasibilityChecked": {"designed", "reserved", "inactive", "active"},
        "designed": {"reserved", "inactive", "active", "terminated"},
        "reserved": {"designed", "inactive", "active", "terminated"},
        "inactive": {"active", "terminated"},
        "active": {"inactive", "terminated"},
        "terminated": {"active"},
    },
)

#: a client records a service only as feasibilityChecked or designed and no order's; a service an
#: order made (``serviceOrderItem``) or that is reserved, active, inactive or terminated is the
#: order manager's but for its name, description and notes
SERVICE_OWNERSHIP = Ownership(
    free_states={"feasibilityChecked", "designed"},
    client_attrs={"name", "description", "note"},
    order_marks=("serviceOrderItem",),
)

API = ApiDecl.build(
    "TMF638-ServiceInventory-v4.0.0.swagger.json",
    resources=[
        ResourceDecl(
            "service",
            lifecycle=SERVICE_LIFECYCLE,
            ref_paths=("relatedParty.id", "serviceSpecification.id", "supportingResource.id", "supportingService.id"),
            ownership=SERVICE_OWNERSHIP,
        )
    ],
)
