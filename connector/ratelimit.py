"""Rate limits as token buckets, one per API key, in this process's memory (no Flask).

A limit of N per period lets a key send N requests at once and then one every
period/N: its bucket holds at most N tokens, refilled continuously. Each web
process keeps its own buckets, so with P processes behind a balancer a key may
get up to P times the limit.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour"}
OFF = ("", "0", "off", "none")


@dataclass(frozen=True)
class Rate:
    count: int
    period: float  # seconds
    text: str  # as the setting said it, for messages


def parse_rate(value: object, setting: str = "rate limit") -> Rate | None:
    """``"100/second"``, ``"6000/minute"``, ``"100/s"``, ``"100"`` (per second); 0, empty or ``off``: None."""
    text = "" if value is None else str(value).strip().lower()
    if text in OFF:
        return None
    count, _, unit = text.partition("/")
    unit = unit.strip() or "second"
    if len(unit) > 3 and unit.endswith("s"):
        unit = unit[:-1]  # seconds, minutes, hours
    if not count.strip().isdigit() or unit not in PERIODS:
        raise ValueError(f"{setting}: {value!r} is not a rate like 100/second, 6000/minute or 0 (off)")
    n = int(count)
    if n == 0:
        return None
    period = PERIODS[unit]
    return Rate(n, float(period), f"{n}/{UNIT_NAMES[period]}")


class TokenBuckets:
    """One bucket per key; `take` is O(1) and holds a lock for a few dictionary operations."""

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.capacity = float(rate.count)
        self.refill = rate.count / rate.period  # tokens per second
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens, when last counted]
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Spend a token of ``key`` at ``now`` (seconds, monotonic): 0.0 if it had one, else seconds until it will."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [self.capacity - 1.0, now]
                return 0.0
            tokens = bucket[0] + (now - bucket[1]) * self.refill
            if tokens > self.capacity:
                tokens = self.capacity
            bucket[1] = now
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return 0.0
            bucket[0] = tokens
            return (1.0 - tokens) / self.refill


def retry_after(wait: float) -> int:
    """A ``Retry-After`` in whole seconds, never 0."""
    return max(1, math.ceil(wait))
