"""Reminder rules as data: checking them, reading a booking's times, working out when its reminders fall due.

Pure functions, no database: services/bookings.py stores what these decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import filters

KINDS = ("reminder", "follow_up")
# What an appointment event does to the booking's reminders (anything else only refreshes its data).
SCHEDULING_EVENTS = ("create", "edit", "place", "approve", "restore")
CANCELLING_EVENTS = ("destroy",)
MAX_RULES = 20
MAX_OFFSET_MINUTES = 60 * 24 * 60  # 60 days
DEFAULT_TIMEZONE = "UTC"
# Who causes a reminder event: the system (catalog.ROLES).
SYSTEM_ROLE = 7


@dataclass(frozen=True)
class Rule:
    """A reminder `offset_minutes` before the start, or a follow-up that long after the finish."""

    event: str
    offset_minutes: int
    filters: dict[str, Any]


@dataclass(frozen=True)
class Due:
    event: str
    offset_minutes: int
    due_at: datetime

    @property
    def key(self) -> tuple[str, int, datetime]:
        return (self.event, self.offset_minutes, self.due_at)


def timezone(name: str) -> ZoneInfo:
    """The zone of an IANA name; ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def check_rules(rules: list[dict[str, Any]], max_filter_conditions: int) -> dict[str, Any]:
    """Errors by rule index ('rules.0.filters': ...); empty when every rule is usable."""
    errors: dict[str, Any] = {}
    if len(rules) > MAX_RULES:
        errors["rules"] = f"at most {MAX_RULES} rules"
    for index, rule in enumerate(rules):
        for where, problem in filters.validate(rule.get("filters") or {}, max_filter_conditions).items():
            errors[f"rules.{index}.{where}"] = problem
    return errors


def parse_rules(stored: list[dict[str, Any]]) -> list[Rule]:
    return [Rule(r["event"], int(r["offset_minutes"]), r.get("filters") or {}) for r in stored]


def booking_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A booking's start or finish in UTC; a time without an offset is in the account's zone.

    The platform sends "2026-12-05T10:00:00+09:00", "2026-12-05T10:00" or "2026-12-05 10:00:00";
    anything unreadable means no reminders rather than a rejected event.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def is_cancelled(event: str, data: dict[str, Any]) -> bool:
    """Deleted or on the waiting list: a booking that gets no reminders."""
    return event in CANCELLING_EVENTS or _truthy(data.get("deleted")) or _truthy(data.get("waitlisted"))


def _truthy(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def due_times(rules: list[Rule], data: dict[str, Any], zone: ZoneInfo) -> set[Due]:
    """When each matching rule falls due for a booking (rules with the same outcome count once)."""
    start = booking_time(data.get("start"), zone)
    finish = booking_time(data.get("finish"), zone) or start
    due: set[Due] = set()
    for rule in rules:
        if not filters.matches(rule.filters, data):
            continue
        offset = timedelta(minutes=rule.offset_minutes)
        if rule.event == "reminder" and start is not None:
            due.add(Due(rule.event, rule.offset_minutes, start - offset))
        elif rule.event == "follow_up" and finish is not None:
            due.add(Due(rule.event, rule.offset_minutes, finish + offset))
    return due
