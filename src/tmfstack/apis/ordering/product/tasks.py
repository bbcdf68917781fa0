"""Product order management's durable task handlers, by queue (``engine/tasks.py``)."""

from __future__ import annotations

from ....engine.tasks import Handler, Queue, TaskDecl
from .cancel import process_cancel
from .steps import CANCEL_QUEUE, ORDER_QUEUE, order_parked, order_retried, process_order

TASKS: dict[str, Queue | Handler] = {
    # a step that keeps failing holds its order; an operator's retry releases it
    ORDER_QUEUE: TaskDecl(process_order, on_parked=order_parked, on_retried=order_retried),
    CANCEL_QUEUE: process_cancel,
}

__all__ = ["CANCEL_QUEUE", "ORDER_QUEUE", "TASKS"]
