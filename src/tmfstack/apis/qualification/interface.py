"""What other families may use of qualification: whether an order may be accepted.

Product order management validates each order with ``validate_order`` (the same rules TMF679
product offering qualification answers with), the one thing it asks of this family.
"""

from __future__ import annotations

from .validate import validate_order

__all__ = ["validate_order"]
