"""Resource ids (``clock.new_id``): UUID version 7, time-ordered, strictly increasing in a process."""

from __future__ import annotations

import time
import uuid

from tmfstack import clock


def test_an_id_is_a_version_7_uuid() -> None:
    text = clock.new_id()
    made = uuid.UUID(text)
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert str(made) == text  # the canonical form: lower case, hyphenated


def test_an_id_starts_with_the_milliseconds_it_was_made_at() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(clock.new_id())
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_in_a_row_sort_in_order_and_never_repeat() -> None:
    ids = [clock.new_id() for _ in range(5000)]  # many within one millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
