"""TMF641 Service Ordering v4 (``TMF641-ServiceOrdering-v4.1.0.swagger.json``).

``serviceOrder`` (list, create, get, patch, delete), ``cancelServiceOrder`` (list, create,
get), ``hub``. Orders come from the product order manager (one per product order item it
decomposes) or from any client; service order management (``service/``) processes them.
``state`` follows the same table as product orders (``states.py``); cancelServiceOrder's
TaskStateType starts ``accepted`` in this version.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from .rules import PATCHABLE, can_delete, client_patch, prepare_items, schedule_on_create, schedule_on_release
from .service.cancel import process_cancel
from .service.steps import process_service_order
from .shared import CANCEL_SERVICE_ORDER_QUEUE, SERVICE_ORDER_QUEUE
from .states import ORDER

#: TaskStateType of cancelServiceOrder (641v4, starting ``accepted``); like 622's and unlike
#: ``tmf.task_moves``, accepted cannot move straight to done (only through inProgress)
CANCEL = StateMachine(
    "state",
    {
        "accepted": {"inProgress", "terminatedWithError"},
        "inProgress": {"done", "terminatedWithError"},
        "done": set(),
        "terminatedWithError": set(),
    },
    initial="accepted",
    creatable={"accepted"},
)

API = ApiDecl.build(
    "TMF641-ServiceOrdering-v4.1.0.swagger.json",
    resources=[
        ResourceDecl(
            "serviceOrder",
            lifecycle=ORDER,
            created_stamp="orderDate",
            ref_paths=("relatedParty.id", "externalId", "externalReference.id", "serviceOrderItem.service.id"),
            server_owned=frozenset({"completionDate", "cancellationDate", "startDate", "errorMessage", "milestone"}),
            rules=[prepare_items("serviceOrderItem")],
            patch_rules=[client_patch(PATCHABLE)],
            on_create=schedule_on_create(SERVICE_ORDER_QUEUE),
            on_update=schedule_on_release(SERVICE_ORDER_QUEUE),
            can_delete=can_delete,
        ),
        ResourceDecl(
            "cancelServiceOrder",
            refers_to=("serviceOrder.id", "serviceOrder"),
            lifecycle=CANCEL,
            ref_paths=("serviceOrder.id",),
            server_owned=frozenset({"effectiveCancellationDate", "completionMessage", "errorMessage"}),
            on_create=schedule_on_create(CANCEL_SERVICE_ORDER_QUEUE),
        ),
    ],
    tasks={SERVICE_ORDER_QUEUE: process_service_order, CANCEL_SERVICE_ORDER_QUEUE: process_cancel},
)
