"""The retry policy as pure functions: what an answer means, when to try again."""

import enum
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any


class Verdict(enum.Enum):
    SUCCEEDED = "succeeded"
    GONE = "gone"
    RETRY = "retry"


def classify(status_code: int | None) -> Verdict:
    """2xx succeeds, 410 ends the subscription, all else (no answer, 3xx) is retried."""
    if status_code is not None and 200 <= status_code <= 299:
        return Verdict.SUCCEEDED
    if status_code == 410:
        return Verdict.GONE
    return Verdict.RETRY


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` (delta-seconds or HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" means UTC with no stated zone
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _check_number(value: Any, what: str) -> float:
    # An exact type check: bool is an int to Python but never a delay to a human.
    if type(value) not in (int, float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RetryPolicy:
    """Delays after each failed attempt, jittered; ``Retry-After`` can only lengthen."""

    schedule: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    jitter: float = 0.1
    max_retry_after: float = 86400

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("retry schedule is empty")
        for i, delay in enumerate(self.schedule):
            _check_number(delay, f"retry schedule entry {i}")
        if not 0 <= _check_number(self.jitter, "retry jitter") <= 1:
            raise ValueError(f"retry jitter must be between 0 and 1, got {self.jitter!r}")
        _check_number(self.max_retry_after, "max_retry_after")

    @classmethod
    def from_config(cls, schedule: list[float] | str | None, jitter: float = 0.1) -> "RetryPolicy":
        """Build a policy from settings; ``schedule`` may be JSON, e.g. ``"[5, 60]"``."""
        if schedule is None:
            return cls(jitter=jitter)
        if isinstance(schedule, str):
            try:
                schedule = json.loads(schedule)
            except ValueError:
                raise ValueError(f"retry schedule is not valid JSON: {schedule!r}") from None
        if type(schedule) is not list:
            raise ValueError(f"retry schedule must be a list of seconds, got {schedule!r}")
        return cls(schedule=tuple(schedule), jitter=jitter)

    def next_attempt_at(
        self,
        attempts_made: int,
        now: datetime,
        retry_after: float | None = None,
        rand: float = 0.5,
    ) -> datetime | None:
        """When to retry after ``attempts_made`` failures; None once the schedule ends.

        ``rand`` in [0, 1) picks the jitter (0.5 means none), so callers pass
        ``random.random()`` and tests pass a fixed value.
        """
        if attempts_made < 1:
            raise ValueError(f"attempts_made must be >= 1, got {attempts_made}")
        if attempts_made > len(self.schedule):
            return None
        delay = self.schedule[attempts_made - 1]
        delay += (rand * 2 - 1) * self.jitter * delay
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return now + timedelta(seconds=delay)
