"""TMF652 Resource Ordering v4 (``TMF652-ResourceOrder-v4.0.0.swagger.json``).

``resourceOrder`` (list, create, get, patch, delete), ``cancelResourceOrder`` (list, create,
get), ``hub``. The v4.0.0 file is the only TMF652 here; its ``state`` is a free string, so
the product order table (``states.py``, the same states the TMF652 user guide draws) is
applied. Resource order management (``resource/``) serves them from the TMF685 pools.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...tmf import task_moves
from .resource.cancel import process_cancel
from .resource.steps import process_resource_order
from .rules import PATCHABLE, can_delete, client_patch, prepare_items, schedule_on_create, schedule_on_release
from .samples import resource_order
from .shared import CANCEL_RESOURCE_ORDER_QUEUE, RESOURCE_ORDER_QUEUE
from .states import ORDER

#: TaskStateType of cancelResourceOrder (652v4): the plain task moves (unlike 622's and 641's cancel)
CANCEL = StateMachine("state", task_moves("acknowledged"), initial="acknowledged", creatable={"acknowledged"})

API = ApiDecl.build(
    "TMF652-ResourceOrder-v4.0.0.swagger.json",
    resources=[
        ResourceDecl(
            "resourceOrder",
            lifecycle=ORDER,
            created_stamp="orderDate",
            ref_paths=("relatedParty.id", "externalReference.id", "orderItem.resource.id"),
            server_owned=frozenset({"completionDate", "startDate"}),
            rules=[prepare_items("orderItem")],
            patch_rules=[client_patch(PATCHABLE)],
            on_create=schedule_on_create(RESOURCE_ORDER_QUEUE),
            on_update=schedule_on_release(RESOURCE_ORDER_QUEUE),
            can_delete=can_delete,
            sample=resource_order,
        ),
        ResourceDecl(
            "cancelResourceOrder",
            refers_to=("resourceOrder.id", "resourceOrder"),
            lifecycle=CANCEL,
            ref_paths=("resourceOrder.id",),
            server_owned=frozenset({"effectiveCancellationDate"}),
            on_create=schedule_on_create(CANCEL_RESOURCE_ORDER_QUEUE),
        ),
    ],
    tasks={RESOURCE_ORDER_QUEUE: process_resource_order, CANCEL_RESOURCE_ORDER_QUEUE: process_cancel},
)
