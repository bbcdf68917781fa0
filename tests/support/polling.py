"""``wait_until``: the one poll loop of the tests (orders, jobs, deliveries, monitors reach a state)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _shown(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:1500]
    except (TypeError, ValueError):
        return repr(value)[:1500]


def wait_until(
    read: Callable[[], T],
    done: Callable[[T], object] = bool,
    timeout: float = 10.0,
    what: str | Callable[[T], str] = "condition",
    interval: float = 0.02,
) -> T:
    """Call ``read`` until ``done`` holds for what it returned (by default: it is truthy); return that.

    After ``timeout`` seconds fail with ``what`` (a text, or a function of the last value) and the last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            said = what(value) if callable(what) else what
            raise AssertionError(f"not within {timeout}s: {said}; last: {_shown(value)}")
        time.sleep(interval)
