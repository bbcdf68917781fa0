"""Evaluate parsed TMF630 conditions on a JSON document (dict), the reference semantics.

Stores may evaluate a condition in SQL instead when it is on an indexed column;
they must then agree with this module (the property tests check that they do).

Values compare as numbers when both sides are numbers, else as strings; booleans
are ``true``/``false``. A path through arrays yields every element's value, and a
condition holds when any yielded value satisfies it (``ne``: there is a value and
none is equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .query import Condition


def leaves(doc: Any, path: Iterable[str]) -> list[Any]:
    nodes = [doc]
    for part in path:
        nxt: list[Any] = []
        for node in nodes:
            node_items = node if isinstance(node, list) else [node]
            for item in node_items:
                if isinstance(item, dict) and part in item:
                    value = item[part]
                    if isinstance(value, list):
                        nxt.extend(value)
                    else:
                        nxt.append(value)
        nodes = nxt
    return [n for n in nodes if n is not None and not isinstance(n, (dict, list))]


def text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _compare(leaf: Any, wanted: str) -> int:
    left = _number(leaf)
    if left is not None:
        try:
            right = float(wanted)
        except ValueError:
            right = None
        if right is not None:
            return (left > right) - (left < right)
    shown = text(leaf)
    return (shown > wanted) - (shown < wanted)


def _holds(cond: Condition, values: list[Any]) -> bool:
    op = cond.op
    if op == "eq":
        return any(_compare(v, w) == 0 for v in values for w in cond.values)
    if op == "ne":
        return bool(values) and not any(_compare(v, w) == 0 for v in values for w in cond.values)
    if op == "regex":
        assert cond.pattern is not None
        return any(cond.pattern.search(text(v)) for v in values)
    wanted = cond.values[0]
    if op == "gt":
        return any(_compare(v, wanted) > 0 for v in values)
    if op == "gte":
        return any(_compare(v, wanted) >= 0 for v in values)
    if op == "lt":
        return any(_compare(v, wanted) < 0 for v in values)
    if op == "lte":
        return any(_compare(v, wanted) <= 0 for v in values)
    raise ValueError(op)


def matches(doc: Any, conditions: Iterable[Condition]) -> bool:
    return all(_holds(c, leaves(doc, c.path)) for c in conditions)


def sort_key(doc: Any, path: tuple[str, ...]) -> tuple[int, Any]:
    """Key for sorting; a missing value sorts first (as SQL NULLs do in tmfstack's stores)."""
    found = leaves(doc, path)
    if not found:
        return (0, "")
    first = found[0]
    number = _number(first)
    if number is not None:
        return (1, number)
    return (2, text(first))


def project(doc: dict[str, Any], fields: frozenset[str], keep: Iterable[str] = ("id", "href")) -> dict[str, Any]:
    wanted = set(fields).union(keep)
    return {k: v for k, v in doc.items() if k in wanted}
