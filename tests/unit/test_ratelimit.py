"""Rate limits: the in-memory token bucket on a fake clock, Redis windows shared by two replicas, header fields."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tmfstack.auth.ratelimit import (
    Decision,
    MemoryLimiter,
    Policy,
    RedisLimiter,
    headers,
    open_limiter,
    redis_window,
)

if TYPE_CHECKING:
    from tests.support.redis_server import RedisProcess

pytest_plugins = ["tests.support.redis_server"]  # the Redis fixtures

T = TypeVar("T")


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine that must finish without suspending, as ``MemoryLimiter.hit`` does (no lock needed)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        value: T = stop.value
        return value
    coroutine.close()
    raise AssertionError("MemoryLimiter.hit suspended")


def limiter_on(clock: Clock, max_keys: int = 100_000) -> MemoryLimiter:
    return MemoryLimiter(max_keys=max_keys, clock=clock)


POLICIES = [(1.0, 1), (10.0, 5), (100.0, 200), (0.5, 3), (10 / 60, 40), (1000.0, 1), (3.0, 7)]


# -- the in-memory token bucket -----------------------------------------------------------


@pytest.mark.parametrize(("rate", "burst"), POLICIES)
def test_a_fresh_key_gets_its_burst_at_once_then_waits_one_interval(rate: float, burst: int) -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(rate, burst)
    for n in range(burst):
        decision = run(limiter.hit("k", policy))
        assert decision.allowed
        assert decision.remaining == burst - 1 - n
        assert decision.reset == pytest.approx((n + 1) / rate)  # the bucket is full again then
        last = n == burst - 1
        assert decision.retry_after == (pytest.approx(1 / rate) if last else 0.0)
    refused = run(limiter.hit("k", policy))
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert refused.retry_after == pytest.approx(1 / rate)
    assert refused.reset == pytest.approx(burst / rate)
    clock.advance(refused.retry_after * 0.99)
    assert not run(limiter.hit("k", policy)).allowed  # a refusal spends nothing, and it is too early
    clock.advance(refused.retry_after * 0.01)
    assert run(limiter.hit("k", policy)).allowed


@pytest.mark.parametrize(("rate", "burst"), POLICIES)
@pytest.mark.parametrize("tokens", [1, 2, 5])
def test_a_drained_bucket_refills_at_the_rate(rate: float, burst: int, tokens: int) -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(rate, burst)
    while run(limiter.hit("k", policy)).allowed:
        pass
    clock.advance(tokens / rate)
    admitted = 0
    while run(limiter.hit("k", policy)).allowed:
        admitted += 1
    assert admitted == min(tokens, burst)


@pytest.mark.parametrize(("rate", "burst"), POLICIES)
def test_after_reset_seconds_the_bucket_is_full_again(rate: float, burst: int) -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(rate, burst)
    for _ in range(burst // 2 + 1):
        decision = run(limiter.hit("k", policy))
    clock.advance(decision.reset)
    assert run(limiter.hit("k", policy)).remaining == burst - 1


@pytest.mark.parametrize(
    ("rate", "burst", "seconds", "step"),
    [(10.0, 5, 60.0, 0.001), (100.0, 200, 30.0, 0.0005), (0.5, 3, 600.0, 0.05), (50.0, 1, 20.0, 0.001)],
)
def test_over_a_long_run_it_admits_rate_times_t_plus_the_burst(
    rate: float, burst: int, seconds: float, step: float
) -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(rate, burst)
    admitted = 0
    for n in range(round(seconds / step)):
        clock.now = 1000.0 + n * step  # no accumulated float drift over the run
        admitted += run(limiter.hit("k", policy)).allowed
    assert abs(admitted - (rate * seconds + burst)) <= 1 + rate * step


def test_keys_have_their_own_buckets() -> None:
    limiter = limiter_on(Clock())
    policy = Policy(1.0, 3)
    assert [run(limiter.hit("a", policy)).allowed for _ in range(4)] == [True, True, True, False]
    assert run(limiter.hit("b", policy)).remaining == 2


@given(
    rate=st.floats(0.05, 500.0),
    burst=st.integers(1, 30),
    gaps=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=200),
)
@settings(max_examples=200, deadline=None)
def test_it_decides_like_a_reference_token_bucket(rate: float, burst: int, gaps: list[float]) -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(rate, burst)
    tokens, slack = float(burst), 1e-6 * max(1.0, rate)
    admitted: list[float] = []
    for gap in gaps:
        clock.advance(gap / rate)  # gaps in units of the refill interval: every regime gets visited
        tokens = min(float(burst), tokens + gap)
        decision = run(limiter.hit("k", policy))
        if abs(tokens - 1) > slack:  # right at a token's arrival either answer is fine
            assert decision.allowed == (tokens >= 1)
        if decision.allowed:
            tokens = max(0.0, tokens - 1)
            admitted.append(clock.now)
        if abs(tokens - round(tokens)) > slack:
            assert decision.remaining == (math.floor(tokens) if decision.allowed else 0)
        assert decision.reset == pytest.approx((burst - tokens) / rate, abs=2e-6)
        if decision.remaining == 0 and tokens < 1 - slack:
            assert decision.retry_after == pytest.approx((1 - tokens) / rate, abs=2e-6)
        else:
            assert decision.retry_after == 0.0 or not decision.allowed
    # the defining bound: over any span, at most burst + rate * span requests pass (a request may be
    # up to the limiter's 1 µs of float slack early: rate * 1e-6 of a token, within ``slack``)
    for first in range(len(admitted)):
        for last in range(first, len(admitted)):
            assert last - first + 1 <= burst + rate * (admitted[last] - admitted[first]) + slack


def test_memory_is_bounded_by_max_keys() -> None:
    limiter = limiter_on(Clock(), max_keys=100)
    policy = Policy(1.0, 5)
    for n in range(10_000):
        run(limiter.hit(f"address:{n}", policy))
        assert len(limiter) <= 100
    assert len(limiter) == 100


def test_idle_keys_leave_as_new_ones_arrive() -> None:
    clock = Clock()
    limiter = limiter_on(clock)
    policy = Policy(10.0, 5)
    for n in range(50):
        run(limiter.hit(f"old:{n}", policy))
    clock.advance(1.0)  # every old bucket is full again: they hold no state
    for n in range(50):
        run(limiter.hit(f"new:{n}", policy))
    assert len(limiter) == 50


def test_a_busy_key_survives_a_flood_of_new_ones_and_keeps_its_debt() -> None:
    limiter = limiter_on(Clock(), max_keys=10)
    policy = Policy(1.0, 2)
    run(limiter.hit("client:busy", policy))
    run(limiter.hit("client:busy", policy))
    for n in range(1000):
        run(limiter.hit(f"address:{n}", policy))
        assert not run(limiter.hit("client:busy", policy)).allowed
    assert len(limiter) == 10


def test_a_key_pushed_out_while_in_debt_starts_over_with_a_full_bucket() -> None:
    # the documented price of the bound: only for a key idle while max_keys others arrived
    limiter = limiter_on(Clock(), max_keys=2)
    policy = Policy(1.0, 1)
    assert run(limiter.hit("a", policy)).allowed
    assert not run(limiter.hit("a", policy)).allowed
    run(limiter.hit("b", policy))
    run(limiter.hit("c", policy))
    assert run(limiter.hit("a", policy)).allowed


@pytest.mark.parametrize(
    ("rate", "burst", "name"),
    [
        (0.0, 1, "x"),
        (-1.0, 1, "x"),
        (math.inf, 1, "x"),
        (math.nan, 1, "x"),
        (1.0, 0, "x"),
        (1.0, 1, "é"),
        (1, 1, "a\n"),
    ],
)
def test_a_malformed_policy_is_refused(rate: float, burst: int, name: str) -> None:
    with pytest.raises(ValueError):
        Policy(rate, burst, name)


def test_without_a_redis_url_the_limiter_is_in_memory() -> None:
    assert isinstance(open_limiter(""), MemoryLimiter)
    with pytest.raises(ValueError):
        open_limiter("http://localhost:6379")


# -- the moving window that stands for a policy in Redis ---------------------------------


@pytest.mark.parametrize(
    ("rate", "burst", "window"),
    [
        (100.0, 200, (200, 2)),
        (10.0, 40, (40, 4)),
        (10 / 60, 40, (40, 240)),
        (100.0, 10, (100, 1)),  # the burst rounds up to a second's worth
        (50.0, 100, (100, 2)),
        (0.3, 1, (3, 10)),
        (1.5, 2, (3, 2)),
        (2.5, 1, (5, 2)),
        (7 / 60, 1, (7, 60)),
    ],
)
def test_a_policy_becomes_a_whole_second_window(rate: float, burst: int, window: tuple[int, int]) -> None:
    assert redis_window(Policy(rate, burst)) == window


@example(count=8879, per=60.0, burst=8880)  # 119 s was taken for whole: 17,610.0167 requests
@given(count=st.integers(1, 10_000), per=st.sampled_from([1.0, 60.0]), burst=st.integers(1, 10_000))
def test_the_window_keeps_the_rate_exact_and_rounds_the_burst_up(count: int, per: float, burst: int) -> None:
    rate = count / per  # every N/s and N/min setting
    amount, window = redis_window(Policy(rate, burst))
    assert amount / window == pytest.approx(rate, rel=1e-9)
    assert amount >= burst and window >= 1
    # and it is the shortest such window
    for shorter in range(max(1, math.ceil(burst / rate - 1e-6)), window):
        assert abs(rate * shorter - round(rate * shorter)) > 1e-9 * rate * shorter


# -- Redis, shared by replicas ------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_redis_gives_the_burst_then_refuses_with_a_sane_retry_after(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url)
    policy = Policy(5.0, 10, "client")  # 10 in any 2 s
    try:
        decisions = [await limiter.hit("client:a", policy) for _ in range(11)]
        assert [d.allowed for d in decisions] == [True] * 10 + [False]
        assert [d.remaining for d in decisions] == [*range(9, -1, -1), 0]
        assert all(d.reset == 2.0 for d in decisions)
        assert [d.retry_after for d in decisions[:9]] == [0.0] * 9
        for last in decisions[9:]:
            assert 1.5 < last.retry_after <= 2.0  # the first request leaves the window 2 s after it came
            fields = dict(headers(last))
            assert fields[b"ratelimit"] == b'"client";r=0;t=2'
        assert dict(headers(decisions[10]))[b"retry-after"] == b"2"
        assert (await limiter.hit("client:b", policy)).remaining == 9  # another key, another window
    finally:
        await limiter.close()


@pytest.mark.anyio
async def test_redis_admits_the_rounded_up_burst_but_shows_at_most_the_policys(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url)
    policy = Policy(20.0, 5)  # becomes 20 in any 1 s
    try:
        decisions = [await limiter.hit("k", policy) for _ in range(21)]
        assert [d.allowed for d in decisions] == [True] * 20 + [False]
        assert max(d.remaining for d in decisions) == 5
        assert dict(headers(decisions[0]))[b"ratelimit-policy"] == b'"default";q=5;w=1'
    finally:
        await limiter.close()


@pytest.mark.anyio
async def test_two_replicas_hammering_one_key_hold_it_to_its_policy(redis_url: str) -> None:
    replicas = [RedisLimiter(redis_url), RedisLimiter(redis_url)]
    policy = Policy(40.0, 40, "client")  # 40 in any 1 s
    seconds = 5.0
    admitted = [0, 0]
    refused = [0, 0]

    async def hammer(replica: int, start: float) -> None:
        while time.monotonic() - start < seconds:
            decision = await replicas[replica].hit("client:shared", policy)
            if decision.allowed:
                admitted[replica] += 1
            else:
                refused[replica] += 1

    try:
        start = time.monotonic()
        await asyncio.gather(*(hammer(replica, start) for replica in (0, 1) for _ in range(4)))
        elapsed = time.monotonic() - start
    finally:
        for replica in replicas:
            await replica.close()
    total = sum(admitted)
    # a moving window admits between rate * T and rate * T + one window's worth
    assert 0.9 * policy.rate * elapsed <= total <= 1.1 * (policy.rate * elapsed + policy.burst), (total, elapsed)
    assert all(admitted) and sum(refused) > 10 * total  # both took part, and they did hammer


@pytest.mark.anyio
async def test_an_unreachable_redis_fails_open_to_this_replicas_buckets(
    closed_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(closed_redis_url, timeout=0.5)
    policy = Policy(1.0, 3)
    try:
        with caplog.at_level(logging.WARNING, logger="tmfstack.auth.ratelimit"):
            decisions = [await limiter.hit("k", policy) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert decisions[-1].retry_after == pytest.approx(1.0, abs=0.05)
        assert len(caplog.records) == 1  # one warning per log interval, not one per request
        assert "Redis unreachable" in caplog.records[0].getMessage()
    finally:
        await limiter.close()


@pytest.mark.anyio
async def test_an_unreachable_redis_can_fail_closed(closed_redis_url: str) -> None:
    limiter = RedisLimiter(closed_redis_url, fail_open=False, retry_interval=5.0)
    try:
        decision = await limiter.hit("k", Policy(100.0, 100))
        assert (decision.allowed, decision.remaining, decision.retry_after) == (False, 0, 5.0)
        assert dict(headers(decision))[b"retry-after"] == b"5"
    finally:
        await limiter.close()


@pytest.mark.anyio
async def test_buckets_are_shared_again_once_redis_is_back(
    redis_process: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(redis_process.url, retry_interval=0.2)
    policy = Policy(1.0, 2)
    try:
        with caplog.at_level(logging.WARNING, logger="tmfstack.auth.ratelimit"):
            assert (await limiter.hit("k", policy)).remaining == 1  # shared: Redis holds one request
            redis_process.stop()
            assert (await limiter.hit("k", policy)).remaining == 1  # this replica's buckets start afresh
            redis_process.start()
            await asyncio.sleep(0.3)
            assert (await limiter.hit("k", policy)).remaining == 1  # the new server's first request
            assert (await limiter.hit("k", policy)).remaining == 0
        messages = [record.getMessage() for record in caplog.records]
        assert len(messages) == 2
        assert "unreachable" in messages[0] and "answers again" in messages[1]
    finally:
        await limiter.close()


# -- header fields ------------------------------------------------------------------------


def test_the_fields_of_an_allowed_request() -> None:
    decision = Decision(True, Policy(100.0, 200, "client"), remaining=150, reset=0.5, retry_after=0.0)
    assert headers(decision) == [
        (b"ratelimit-policy", b'"client";q=200;w=2'),
        (b"ratelimit", b'"client";r=150;t=1'),
    ]


def test_the_fields_of_the_request_that_took_the_last_token() -> None:
    decision = Decision(True, Policy(10.0, 40, "address"), remaining=0, reset=4.0, retry_after=0.1)
    assert headers(decision) == [
        (b"ratelimit-policy", b'"address";q=40;w=4'),
        (b"ratelimit", b'"address";r=0;t=1'),  # the next request passes in 0.1 s
    ]


@pytest.mark.parametrize(("wait", "seconds"), [(2.3, b"3"), (0.0004, b"1"), (1.0, b"1"), (2.0000000001, b"2")])
def test_the_fields_of_a_refusal(wait: float, seconds: bytes) -> None:
    decision = Decision(False, Policy(10.0, 40, "address"), remaining=0, reset=4.0, retry_after=wait)
    assert headers(decision) == [
        (b"ratelimit-policy", b'"address";q=40;w=4'),
        (b"ratelimit", b'"address";r=0;t=' + seconds),
        (b"retry-after", seconds),
    ]


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (Policy(10 / 60, 40), b'"default";q=40;w=240'),
        (Policy(0.3, 1), b'"default";q=1;w=4'),  # ceil(1 / 0.3): a steady rate a little under 0.3/s
        (Policy(3.0, 7), b'"default";q=7;w=3'),
        (Policy(1000.0, 1), b'"default";q=1;w=1'),
        (Policy(1.0, 1, 'a"b\\c'), b'"a\\"b\\\\c";q=1;w=1'),
    ],
)
def test_the_policy_field(policy: Policy, field: bytes) -> None:
    assert dict(headers(Decision(True, policy, 0, 1.0, 0.0)))[b"ratelimit-policy"] == field


def test_the_fields_of_real_decisions() -> None:
    limiter = limiter_on(Clock())
    policy = Policy(100.0, 200, "client")
    assert dict(headers(run(limiter.hit("k", policy))))[b"ratelimit"] == b'"client";r=199;t=1'
    for _ in range(199):
        run(limiter.hit("k", policy))
    refused = dict(headers(run(limiter.hit("k", policy))))
    assert refused[b"ratelimit"] == b'"client";r=0;t=1'
    assert refused[b"retry-after"] == b"1"


_ITEM = re.compile(rb'^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"(?:;[a-z]+=(?:0|[1-9][0-9]{0,14}))+$')


@given(
    allowed=st.booleans(),
    rate=st.floats(0.01, 1e5),
    burst=st.integers(1, 10**6),
    name=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
    remaining=st.integers(0, 10**6),
    reset=st.floats(0.0, 1e6),
    wait=st.floats(0.0, 1e6),
)
def test_the_fields_are_always_structured_field_lists(
    allowed: bool, rate: float, burst: int, name: str, remaining: int, reset: float, wait: float
) -> None:
    decision = Decision(allowed, Policy(rate, burst, name), remaining, reset, wait if not allowed else 0.0)
    fields = dict(headers(decision))
    assert _ITEM.match(fields[b"ratelimit-policy"]) and _ITEM.match(fields[b"ratelimit"])
    if not allowed:
        # Retry-After is a delay in whole seconds, never before the end of the RateLimit window
        assert re.fullmatch(rb"[1-9][0-9]*", fields[b"retry-after"])
        assert fields[b"ratelimit"].endswith(b";r=0;t=" + fields[b"retry-after"])
    else:
        assert b"retry-after" not in fields
