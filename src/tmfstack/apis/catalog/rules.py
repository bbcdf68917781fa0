"""What rules against the catalog (order validation, qualification, pricing) share: the
``Problem`` they report and small readers of TMF documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...clock import parse_time
from ...tmf import Doc

ORDERABLE_LIFECYCLE = frozenset({"active", "launched"})
#: product statuses after which nothing can be modified or deleted ("aborted " is spelled with a space in 637)
ENDED_PRODUCT = frozenset({"terminated", "cancelled", "aborted"})
MODIFY_TO_STATUS = frozenset({"active", "suspended"})
EXCLUDING = frozenset({"excludes", "exclusivity"})


@dataclass(frozen=True)
class Problem:
    item: str | None  #: the order item id; None for the order itself
    code: str  #: stable UPPER_SNAKE code
    message: str  #: a sentence the submitter understands


# -- small helpers -------------------------------------------------------------------------


def walk_items(items: Iterable[Any]) -> Iterator[Doc]:
    """Every order item, depth first, nested bundle children included."""
    for item in items or ():
        if isinstance(item, dict):
            yield item
            yield from walk_items(item.get("productOrderItem") or ())


def _dicts(value: Any) -> list[Doc]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _ref_id(doc: Doc, key: str) -> str | None:
    ref = doc.get(key)
    return ref.get("id") if isinstance(ref, dict) and isinstance(ref.get("id"), str) else None


def _label(doc: Doc | None, id: str | None) -> str:
    """``Fibre 300 (po-fibre-300)``: names for people, ids for support."""
    name = doc.get("name") if doc else None
    return f"{name} ({id})" if name and id else str(name or id)


def _quantity(item: Doc) -> int:
    q = item.get("quantity", 1)
    return q if isinstance(q, int) and not isinstance(q, bool) else 1


def period_covers(valid_for: Any, when: datetime | None) -> bool:
    """Whether a TimePeriod (either end may be open) contains ``when``."""
    if not isinstance(valid_for, dict) or when is None:
        return True
    start, end = parse_time(valid_for.get("startDateTime")), parse_time(valid_for.get("endDateTime"))
    return (start is None or start <= when) and (end is None or when <= end)


_JSON_TYPES: dict[type, str] = {str: "string", list: "array", dict: "object"}


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, as a submitter wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
