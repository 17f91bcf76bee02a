"""Bookings as reminders see them: each appointment event schedules, moves or cancels its reminders.

Called inside the publish transaction (services/publish.py), so an event and the
reminders it schedules are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import reminders
from ..models import Reminder, ReminderBooking, ReminderRuleSet


def concerns(obj: str, data: dict[str, Any]) -> bool:
    """Whether an event changes a booking's reminders (a booking object with an id)."""
    return obj == "appointment" and data.get("id") not in (None, "")


def rules_of(session: Session, account_id: int) -> tuple[list[reminders.Rule], ZoneInfo]:
    rule_set = session.get(ReminderRuleSet, account_id)
    if rule_set is None:
        return [], reminders.timezone(reminders.DEFAULT_TIMEZONE)
    return reminders.parse_rules(rule_set.rules), reminders.timezone(rule_set.timezone)


def track(session: Session, events: Sequence[dict[str, Any]], now: datetime) -> None:
    """Apply stored event rows (publish's: account_id, object, event, occurred_at, data) to their bookings."""
    rule_sets: dict[int, tuple[list[reminders.Rule], ZoneInfo]] = {}
    for row in events:
        if not concerns(row["object"], row["data"]):
            continue
        account_id, data, event = row["account_id"], row["data"], row["event"]
        if account_id not in rule_sets:
            rule_sets[account_id] = rules_of(session, account_id)
        rules, zone = rule_sets[account_id]
        # pending, revert: the reminders keep their times and carry the booking's latest data.
        refresh_only = event not in reminders.SCHEDULING_EVENTS and not reminders.is_cancelled(event, data)
        booking = _locked(session, account_id, str(data["id"]), None if refresh_only else row["occurred_at"], now)
        if booking is None or booking.occurred_at > row["occurred_at"]:
            continue  # unknown and not scheduling, or an older event arriving late: nothing changes
        booking.data, booking.occurred_at, booking.updated_at = data, row["occurred_at"], now
        if not refresh_only:
            booking.active = not reminders.is_cancelled(event, data)
            reschedule(session, [booking], rules, zone, now)


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _locked(
    session: Session, account_id: int, booking_id: str, create_at: datetime | None, now: datetime
) -> ReminderBooking | None:
    """The booking's row, created if `create_at` is given, locked until commit on PostgreSQL.

    Two events of one booking published at once then apply one after the other instead
    of both inserting its reminders (SQLite's writers are one at a time anyway).
    """
    if create_at is not None:
        insert = _INSERTS[session.connection().dialect.name]
        values = {"account_id": account_id, "booking_id": booking_id, "active": False, "data": {}}
        session.execute(insert(ReminderBooking).values(**values, occurred_at=create_at, updated_at=now).on_conflict_do_nothing())
    key = (ReminderBooking.account_id == account_id, ReminderBooking.booking_id == booking_id)
    return session.scalars(select(ReminderBooking).where(*key).with_for_update()).one_or_none()


def reschedule(
    session: Session, bookings: Iterable[ReminderBooking], rules: list[reminders.Rule], zone: ZoneInfo, now: datetime
) -> None:
    """Make each booking's pending reminders what the rules say now (the caller commits).

    Reminders already due are not scheduled after the fact; ones fired or skipped stay as recorded.
    """
    for booking in bookings:
        booking.start_at = reminders.booking_time(booking.data.get("start"), zone)
        booking.finish_at = reminders.booking_time(booking.data.get("finish"), zone)
        wanted = {d.key: d for d in reminders.due_times(rules, booking.data, zone) if d.due_at > now} if booking.active else {}
        existing = {
            (r.event, r.offset_minutes, r.due_at): r
            for r in session.scalars(
                select(Reminder).where(Reminder.account_id == booking.account_id, Reminder.booking_id == booking.booking_id)
            )
        }
        for key, reminder in existing.items():
            if reminder.status == "pending" and key not in wanted:
                reminder.status, reminder.finished_at = "cancelled", now
        for key, due in wanted.items():
            reminder = existing.get(key)
            if reminder is None:
                session.add(
                    Reminder(
                        account_id=booking.account_id,
                        booking_id=booking.booking_id,
                        event=due.event,
                        offset_minutes=due.offset_minutes,
                        due_at=due.due_at,
                        status="pending",
                        created_at=now,
                    )
                )
            elif reminder.status == "cancelled":
                reminder.status, reminder.finished_at = "pending", None
    session.flush()
