"""Product order management's durable task handlers, by queue (``engine/tasks.py``)."""

from __future__ import annotations

from .cancel import process_cancel
from .steps import CANCEL_QUEUE, ORDER_QUEUE, process_order

TASKS = {ORDER_QUEUE: process_order, CANCEL_QUEUE: process_cancel}

__all__ = ["CANCEL_QUEUE", "ORDER_QUEUE", "TASKS"]
