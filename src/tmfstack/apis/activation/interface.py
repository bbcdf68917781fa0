"""What other families may use of service activation (TMF640): the rest is activation's own.

Service order management asks for activations by writing TMF640 services and reads their
outcome here; activation, when a request ends, wakes the requesting order's step on
``SETTLED_QUEUE`` (the queue ordering serves) and knows nothing else of ordering.
"""

from __future__ import annotations

from .tmf640 import SETTLED_QUEUE, latest_monitor, request_again

__all__ = ["SETTLED_QUEUE", "latest_monitor", "request_again"]
