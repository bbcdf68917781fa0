"""TM Forum idioms every layer uses, defined once: the document type and its optional
sub-objects, text folding for comparisons, entity references, and the TaskStateType table.

It imports nothing of tmfstack, so the store, the engine and the APIs can all use it.
"""

from __future__ import annotations

from typing import Any

#: a TMF resource (or any JSON object) as parsed: what the engine stores and serves
Doc = dict[str, Any]


def member(doc: Doc, key: str) -> Doc:
    """The object ``doc[key]``, or an empty one when it is absent or not an object: how optional
    sub-objects of a client's document (``product``, ``price``, ...) are read without trusting them."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def fold(value: Any) -> str:
    """``value`` as compared by people: case and runs of whitespace ignored ("In Progress" ==
    "in  progress"). States, relationship types and characteristic names compare this way."""
    return " ".join(str(value).split()).casefold()


def fold_alnum(value: Any) -> str:
    """Like ``fold`` but ignoring every character that is not a letter or digit too
    ("recurring-charge" == "Recurring Charge"): for names spelt freely, such as price types."""
    return "".join(c for c in str(value or "") if c.isalnum()).casefold()


def ref(doc: Doc, referred_type: str | None = None) -> Doc:
    """An EntityRef to ``doc``: its id, href and name (those it has), and ``@referredType``."""
    out = {k: doc[k] for k in ("id", "href", "name") if doc.get(k) is not None}
    if referred_type:
        out["@referredType"] = referred_type
    return out


def task_moves(initial: str) -> dict[str, set[str]]:
    """The TaskStateType moves of a task resource (a qualification, a cancel request) that
    starts in ``initial`` (``acknowledged`` or ``accepted`` depending on the API version)."""
    return {
        initial: {"inProgress", "done", "terminatedWithError"},
        "inProgress": {"done", "terminatedWithError"},
        "done": set(),
        "terminatedWithError": set(),
    }
