"""Bounds on the work and storage one request may cause, and the one rule for ids.

Every layer may read ``current`` (the web edge, the engine, TMF630 parsing, the APIs' rules);
the engine installs its settings' limits when it is built (``configure``). Each bound is a
``TMFSTACK_MAX_*`` setting (README: Security, "Hardening: bounded work and clean errors").
A value beyond a bound is refused with a TMF Error (400 or 413), never stored or worked on.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import BadRequest, PayloadTooLarge


def _env(name: str, default: int) -> int:
    return int(os.environ.get(f"TMFSTACK_{name}", str(default)))


@dataclass(frozen=True)
class Limits:
    #: TMF630: filter parameters per request, OR values per attribute, pattern length, fields entries
    filters: int = field(default_factory=lambda: _env("MAX_FILTERS", 20))
    or_values: int = field(default_factory=lambda: _env("MAX_OR_VALUES", 100))
    pattern: int = field(default_factory=lambda: _env("MAX_PATTERN", 256))
    fields: int = field(default_factory=lambda: _env("MAX_FIELDS", 100))
    #: bytes of a request body, and of a stored document after a create, PATCH or PUT (a body
    #: of the largest size plus what the server adds: id, href, stamps, item states)
    body: int = field(default_factory=lambda: _env("MAX_BODY", 1 << 20))
    document: int = field(default_factory=lambda: _env("MAX_DOCUMENT", (1 << 20) + (64 << 10)))
    #: requests with a body over 64 KiB (or of unknown length) served at once; others wait their
    #: turn before their body is read, so that memory stays bounded under many large bodies
    large_bodies: int = field(default_factory=lambda: _env("MAX_LARGE_BODIES", 4))
    #: bytes of documents in one page of a list (at least one document): a shorter page beyond
    page: int = field(default_factory=lambda: _env("MAX_PAGE_BYTES", 16 << 20))
    #: lists evaluated in Python (filters or sorts outside the indexed columns) run at once; the
    #: rest wait, so that a flood of them shares the event loop with everything else fairly
    scans: int = field(default_factory=lambda: _env("MAX_SCANS", 2))
    #: nesting of objects and arrays in any JSON a client sends (bodies, imported entities)
    depth: int = field(default_factory=lambda: _env("MAX_DEPTH", 32))
    #: items of one order (nested bundle items included) and the quantity of one item; an order
    #: step works on all its items in one unit on the loop: 100 device items hold it ~40 ms,
    #: 1,000 held it ~380 ms (tests/security/test_order_lag.py)
    order_items: int = field(default_factory=lambda: _env("MAX_ORDER_ITEMS", 100))
    quantity: int = field(default_factory=lambda: _env("MAX_QUANTITY", 1000))
    #: UTF-8 bytes of an indexed value (name, state, @type, referenced ids): B-tree entries are bounded
    indexed: int = field(default_factory=lambda: _env("MAX_INDEXED", 1024))


current = Limits()


def configure(limits: Limits) -> None:
    """Install ``limits`` process-wide (the engine does, from its settings)."""
    global current
    current = limits


#: what an id may be, on every path (URLs, client-supplied ids, imports, order items): safe in
#: a URL path segment, a header, a log line and an index entry (the demo and the CTK ids fit)
ID_RULE = re.compile(r"[A-Za-z0-9._~:@-]{1,128}")


def valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_RULE.fullmatch(value) is not None


def check_id(value: object, what: str = "id") -> str:
    """``value`` as an id, or a 400 saying what an id may be."""
    if not valid_id(value):
        shown = repr(value)[:40] + ("…" if len(repr(value)) > 40 else "")
        raise BadRequest(f"{what} {shown} is not a valid id: 1 to 128 of A-Z a-z 0-9 . _ ~ : @ -", code="INVALID_ID")
    return str(value)


def _nul(what: str) -> BadRequest:
    return BadRequest(f"{what} contains a NUL character (\\u0000), which is not accepted", code="INVALID_VALUE")


def check_json(value: Any, raw: bytes | None = None, what: str = "request body") -> None:
    """Refuse (400) JSON nested deeper than ``current.depth`` or holding NUL in a string or key.

    Iterative, so a deep value cannot exhaust the stack. ``raw`` (the JSON text of ``value``)
    skips the string checks when it holds no escaped NUL (a C-speed search), and the whole walk
    when it has too few brackets to be deep.
    """
    limit = current.depth
    strings = raw is None or b"\\u0000" in raw
    if raw is not None and not strings and raw.count(b"[") + raw.count(b"{") <= limit:
        return
    if not isinstance(value, (dict, list)):
        if strings and isinstance(value, str) and "\x00" in value:
            raise _nul(what)
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise BadRequest(f"{what} is nested deeper than {limit} levels", code="TOO_DEEP")
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if strings and isinstance(key, str) and "\x00" in key:
                raise _nul(what)
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
            elif strings and isinstance(item, str) and "\x00" in item:
                raise _nul(what)


def parse_json(body: bytes, what: str = "request body") -> Any:
    """``body`` parsed and checked (``check_json``): a 400 for bad JSON, too deep, or NUL."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", code="MALFORMED_JSON") from None
    check_json(value, body, what)
    return value


def check_size(raw: bytes, what: str = "the document") -> None:
    """Refuse (413) a stored document larger than ``current.document`` bytes."""
    if len(raw) > current.document:
        raise PayloadTooLarge(
            f"{what} would be {len(raw)} bytes, more than the limit of {current.document}", code="DOCUMENT_TOO_LARGE"
        )


def check_indexed(value: str | None, what: str) -> None:
    """Refuse (400) a value too long for an index entry (PostgreSQL's B-tree refuses ~2.7 KB)."""
    if value is not None and len(value) * 4 > current.indexed and len(value.encode()) > current.indexed:
        raise BadRequest(f"{what} is longer than {current.indexed} bytes", code="VALUE_TOO_LONG")


#: digits of a number read from text (a house number, an amount): int() refuses > 4300 digits
MAX_DIGITS = 18


def small_int(digits: str) -> int | None:
    """``int(digits)`` for at most ``MAX_DIGITS`` digits, else None (never a ValueError)."""
    return int(digits) if 0 < len(digits) <= MAX_DIGITS and digits.isdecimal() else None


#: seconds of work a request may do before it gives the event loop a turn
SLICE = 0.001


class Slicer:
    """Time-sliced long loops: ``await slicer.tick()`` in the loop body yields to the event loop
    once ``SLICE`` seconds have passed since the last yield, so /health and other requests keep
    being served while one request filters 20,000 rows or validates a 1,000-item order."""

    __slots__ = ("mark",)

    def __init__(self) -> None:
        self.mark = time.perf_counter()

    async def tick(self) -> None:
        if time.perf_counter() - self.mark > SLICE:
            await asyncio.sleep(0)
            self.mark = time.perf_counter()
