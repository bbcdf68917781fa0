"""Per-client rate limits: a token bucket per key, in memory (one process) or in Redis (replicas).

A ``Policy`` is a token bucket: ``burst`` requests at once, refilled at ``rate`` per second.
``Limiter.hit(key, policy)`` spends one token of the key's bucket and answers a ``Decision``;
``headers(decision)`` gives the RateLimit header fields the edge sends with every response
(and ``Retry-After`` with a refusal).

``MemoryLimiter`` is an exact token bucket (GCRA, one float per key) for a single process.

``RedisLimiter`` shares the buckets among replicas through the ``limits`` library's moving
window in Redis. ``limits`` counts in whole-second windows, so a policy becomes "at most L
requests in any W seconds" (``redis_window``): W is the smallest whole number of seconds
>= burst / rate for which L = rate * W is a whole number (searched up to a minute further,
which finds one for every N/s and N/min with a whole N). The steady rate is then exact and the
burst rounds up to L >= burst: ``100/s`` burst 200 is 200 in 2 s, ``10/s`` burst 40 is 40 in
4 s, ``100/s`` burst 10 is 100 in 1 s (the burst cannot be less than one second's worth).
Clients notice two differences from the in-memory bucket: quota comes back when requests leave
the window (W seconds after they were made) rather than smoothly, and over any W seconds at
most L requests pass, where a bucket would allow up to burst + rate * W. Over T seconds of
hammering, a bucket admits rate * T + burst, the window between rate * T and rate * T + L.
Entries are stamped with each replica's wall clock, so replicas should keep their clocks in
step (NTP); a skew of d seconds moves their windows by d.

When Redis cannot be reached (or answers with an error), a ``RedisLimiter`` made with
``fail_open=True`` (the default) answers from in-memory buckets of this replica alone, so a
client is still held to its policy per replica while the fleet admits at most replicas x policy;
with ``fail_open=False`` (say for the token endpoint) it refuses. Either way it stops asking Redis
for ``retry_interval`` seconds, so an outage costs one time-out per interval rather than one per
request, and logs one warning per ``log_interval`` seconds with the number of failures.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

#: float slack on time comparisons (seconds): a request landing exactly when a token is due passes
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Policy:
    """A token bucket: ``burst`` requests at once, refilled at ``rate`` requests per second."""

    rate: float
    burst: int
    name: str = "default"

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"a rate is a finite number of requests per second > 0, got {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"a burst is at least 1, got {self.burst!r}")
        # it is sent as a structured-field String: printable ASCII only
        if not (self.name.isascii() and self.name.isprintable()):
            raise ValueError(f"a policy name is printable ASCII, got {self.name!r}")


class Decision(NamedTuple):
    """One hit's answer (a NamedTuple: one is made per request, half the cost of a dataclass)."""

    allowed: bool
    policy: Policy
    #: requests that would pass right now, after this one
    remaining: int
    #: seconds until the quota is whole again (bucket full, moving window empty)
    reset: float
    #: seconds until another request would pass: 0 while ``remaining`` > 0, so it is also set on
    #: the allowed request that took the last token
    retry_after: float


class Limiter(Protocol):
    async def hit(self, key: str, policy: Policy) -> Decision: ...

    async def close(self) -> None: ...


class MemoryLimiter:
    """Exact token buckets for one process, by GCRA: per key, the time its bucket will be full.

    ``hit`` never awaits, so on one event loop it needs no lock. Keys are kept in least recently
    used order: a new key first drops up to two idle keys at the old end (a full bucket carries no
    state, so that loses nothing), and once ``max_keys`` are held it drops the least recently used
    one even if not idle (that key gets a full bucket back: the price of a bounded memory, paid
    only by a key idle for longer than ``max_keys`` others took to arrive).
    """

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._clock = clock
        #: key -> theoretical arrival time: when the bucket is full again (<= now: full)
        self._full_at: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._full_at)

    async def hit(self, key: str, policy: Policy) -> Decision:
        return self.hit_now(key, policy)

    def hit_now(self, key: str, policy: Policy) -> Decision:
        """``hit`` without a coroutine."""
        now = self._clock()
        interval = 1.0 / policy.rate
        capacity = policy.burst * interval  # the most debt a bucket may carry, in seconds
        due, debt = self._take(key, now, interval, capacity)
        if debt > capacity + _EPS:
            return Decision(False, policy, 0, due - now, debt - capacity)
        remaining = int((capacity - debt + _EPS) * policy.rate)
        return Decision(True, policy, remaining, debt, 0.0 if remaining else debt + interval - capacity)

    def hit_fields(self, key: str, policy: Policy, fields: Fields) -> list[tuple[bytes, bytes]] | None:
        """The edge's hot path: ``hit_now`` and ``headers`` in one step for an allowed request, with
        the policy's fields made once (``policy_fields``); None for a refusal (refusals change no
        bucket, so the caller may ask ``hit`` again for its Decision)."""
        now = self._clock()
        interval = 1.0 / policy.rate
        capacity = policy.burst * interval
        _, debt = self._take(key, now, interval, capacity)
        if debt > capacity + _EPS:
            return None
        remaining = int((capacity - debt + _EPS) * policy.rate)
        seconds = math.ceil((debt if remaining else debt + interval - capacity) - _EPS)
        return [fields[1], (b"ratelimit", b"%s;r=%d;t=%d" % (fields[0], remaining, seconds))]

    def _take(self, key: str, now: float, interval: float, capacity: float) -> tuple[float, float]:
        """(when the key's bucket would be full before this request, the debt after it); the debt
        is recorded only when it fits the bucket (a refusal changes nothing)."""
        full_at = self._full_at
        due = full_at.get(key)
        if due is None:
            if full_at:
                self._make_room(now)
            due = now
        else:
            full_at.move_to_end(key)
            if due < now:
                due = now
        debt = due + interval - now
        if debt <= capacity + _EPS:
            full_at[key] = now + debt
        return due, debt

    def _make_room(self, now: float) -> None:
        full_at = self._full_at
        for _ in range(2):
            oldest = next(iter(full_at), None)
            if oldest is None or full_at[oldest] > now:
                break
            del full_at[oldest]
        while len(full_at) >= self.max_keys:
            full_at.popitem(last=False)

    async def close(self) -> None:
        self._full_at.clear()


def redis_window(policy: Policy) -> tuple[int, int]:
    """The moving window (L requests, W whole seconds) that stands for a token bucket in Redis."""
    start = max(1, math.ceil(policy.burst / policy.rate - _EPS))
    for window in range(start, start + 60):
        amount = policy.rate * window
        # float error of rate * window is ~1e-16 relative; 1e-6 let 17,610.0167 pass as whole
        if abs(amount - round(amount)) <= 1e-9 * amount:
            return round(amount), window
    # a rate no whole window fits exactly (e.g. 1.23456/s): the nearest count, at least one
    return max(1, round(policy.rate * start)), start


_STORAGE_ERRORS = (RedisError, StorageError, OSError, TimeoutError)


class RedisLimiter:
    """Buckets shared by every replica: ``limits``' moving window in Redis (module docstring).

    ``limits``' redis-py implementation is used, not its default coredis one: redis-py is the
    client Redis itself maintains (coredis has one maintainer), it is already a dependency here,
    it lets us set time-outs and retries on a pool we own, and it was as fast or faster against a
    local server (hit + window: 374 vs 490 us best, 550 vs 579 us median, on a busy 2-core box).
    Each hit costs two round trips (the hit, then the window's count and oldest entry for the
    header fields): ``limits`` offers no single call returning both.
    """

    def __init__(
        self,
        url: str,
        *,
        fail_open: bool = True,
        timeout: float = 0.25,
        retry_interval: float = 5.0,
        log_interval: float = 60.0,
        max_connections: int = 50,
        key_prefix: str = "tmfstack:ratelimit",
    ) -> None:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"a Redis URL is redis://, rediss:// or unix://, got {url!r}")
        self.fail_open = fail_open
        self.retry_interval = retry_interval
        self.log_interval = log_interval
        # our own pool: short time-outs and a single immediate retry (redis-py's default retries
        # with back-off for seconds), bounded connections, and a handle to close it
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        storage = RedisStorage(
            "async+" + url.replace("unix://", "redis+unix://", 1),
            implementation="redispy",
            key_prefix=key_prefix,
            # limits (5.8) types its **options as float | str | bool although it documents passing them on
            # to redis-py, whose connection_pool takes this pool; the ignore goes stale (and fails lint) once fixed
            connection_pool=self._pool,  # type: ignore[arg-type]
        )
        self._strategy = MovingWindowRateLimiter(storage)
        self._items: dict[Policy, RateLimitItem] = {}
        self._local = MemoryLimiter()
        self._down_until = 0.0
        self._failures = 0
        self._logged_at = -math.inf

    async def hit(self, key: str, policy: Policy) -> Decision:
        if self._down_until and time.monotonic() < self._down_until:
            return await self._degraded(key, policy)
        item = self._item(policy)
        try:
            allowed = await self._strategy.hit(item, key)
            stats = await self._strategy.get_window_stats(item, key)
        except _STORAGE_ERRORS as exc:
            self._failed(exc)
            return await self._degraded(key, policy)
        if self._down_until:
            self._recovered()
        window = float(item.get_expiry())
        # the oldest request in the window leaves at reset_time: that is when quota returns
        wait = max(0.0, stats.reset_time - time.time())
        # a window holding more than the burst (the burst rounded up) still shows at most the burst
        remaining = min(max(0, stats.remaining), policy.burst)
        if allowed:
            return Decision(True, policy, remaining, window, 0.0 if remaining else wait)
        # on a refusal the newest entry is unknown here: the window length bounds its reset
        return Decision(False, policy, 0, window, max(wait, 0.001))

    def _item(self, policy: Policy) -> RateLimitItem:
        item = self._items.get(policy)
        if item is None:
            if len(self._items) > 1024:  # per-client overrides are few; never let them pile up
                self._items.clear()
            amount, window = redis_window(policy)
            item = self._items[policy] = RateLimitItemPerSecond(amount, window, namespace="rl")
        return item

    async def _degraded(self, key: str, policy: Policy) -> Decision:
        if self.fail_open:
            return await self._local.hit(key, policy)
        return Decision(False, policy, 0, self.retry_interval, self.retry_interval)

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self.retry_interval
        self._failures += 1
        if now - self._logged_at >= self.log_interval:
            self._logged_at = now
            log.warning(
                "rate limits: Redis unreachable (%s: %s), %d failure(s) so far; %s for %.0f s before retrying",
                type(exc).__name__,
                exc,
                self._failures,
                "this replica's own buckets answer" if self.fail_open else "requests are refused",
                self.retry_interval,
            )

    def _recovered(self) -> None:
        log.warning("rate limits: Redis answers again after %d failure(s); buckets are shared again", self._failures)
        self._down_until = 0.0
        self._failures = 0
        self._logged_at = -math.inf

    async def close(self) -> None:
        await self._pool.aclose()
        await self._local.close()


def open_limiter(redis_url: str, *, fail_open: bool = True) -> Limiter:
    """Shared buckets in Redis when a URL is given, else this process's own."""
    if redis_url:
        return RedisLimiter(redis_url, fail_open=fail_open)
    return MemoryLimiter()


# -- header fields ------------------------------------------------------------------------
# draft-ietf-httpapi-ratelimit-headers-11 (the same syntax as -10): both fields are
# structured-field Lists of Items whose value is the policy name as an sf-string,
#     RateLimit-Policy: "client";q=200;w=2      q = quota, w = window in seconds (Integers, 3.1)
#     RateLimit: "client";r=150;t=1             r = available quota, t = seconds (Integers, 4.1)
# A token bucket of burst b and rate p is advertised as q = b, w = ceil(b / p): the client may
# spend b at once, and q per w is the steady rate (exact when b / p is whole, a little under it
# otherwise; Redis admits the burst rounded up, so this never promises more than is enforced).
# t (-11 4.1.2: the effective window, in which the client may use no more than r; -10: the time
# until more quota is available): when no quota remains, the seconds until the next request
# would pass, exact under both readings, and on a refusal equal to Retry-After, as section 6
# asks (Retry-After not before the end of t) and B.1.4 shows; while quota remains, the seconds
# until the bucket is full again, like a fixed window's reset (B.1.3, B.2.1). A bucket refills
# all along, so pacing r over t stays within the limit but under it: q and w tell the rate.


@lru_cache(maxsize=1024)
def _policy_field(name: str, burst: int, rate: float) -> tuple[bytes, bytes]:
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    window = max(1, math.ceil(burst / rate - _EPS))
    return quoted.encode("ascii"), f"{quoted};q={burst};w={window}".encode("ascii")


#: (the policy's quoted name, its ``RateLimit-Policy`` field): made once per policy
Fields = tuple[bytes, tuple[bytes, bytes]]


def policy_fields(policy: Policy) -> Fields:
    name, value = _policy_field(policy.name, policy.burst, policy.rate)
    return name, (b"ratelimit-policy", value)


def _whole_seconds(seconds: float) -> int:
    return max(0, math.ceil(seconds - _EPS))


def headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit``, plus ``Retry-After`` (whole seconds) on a refusal."""
    policy = decision.policy
    name, policy_value = _policy_field(policy.name, policy.burst, policy.rate)
    wait = decision.retry_after
    if decision.allowed:
        seconds = _whole_seconds(wait if wait > 0 else decision.reset)
        return [
            (b"ratelimit-policy", policy_value),
            (b"ratelimit", b"%s;r=%d;t=%d" % (name, decision.remaining, seconds)),
        ]
    seconds = max(1, _whole_seconds(wait))
    return [
        (b"ratelimit-policy", policy_value),
        (b"ratelimit", b"%s;r=0;t=%d" % (name, seconds)),
        (b"retry-after", b"%d" % seconds),
    ]
