"""Reminder rules of an account, and firing due reminders as `reminder` events, each exactly once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from .. import reminders
from ..db import write_lock
from ..models import Reminder, ReminderBooking, ReminderRuleSet
from . import bookings, publish
from .errors import Invalid

_R = Reminder.__table__.c


def get_rules(session: Session, account_id: int) -> dict[str, Any]:
    """The account's rules document: {timezone, rules, updated_at}."""
    rule_set = session.get(ReminderRuleSet, account_id)
    if rule_set is None:
        return {"timezone": reminders.DEFAULT_TIMEZONE, "rules": [], "updated_at": None}
    return {"timezone": rule_set.timezone, "rules": rule_set.rules, "updated_at": rule_set.updated_at}


def put_rules(
    session: Session,
    account_id: int,
    rules: list[dict[str, Any]],
    now: datetime,
    timezone: str = reminders.DEFAULT_TIMEZONE,
    max_filter_conditions: int = 50,
) -> dict[str, Any]:
    """Replace the account's rules and reschedule the pending reminders of its upcoming bookings."""
    try:
        zone = reminders.timezone(timezone)
    except ValueError as exc:
        raise Invalid(str(exc), {"timezone": "an IANA time zone name such as Asia/Tokyo or UTC"}) from None
    errors = reminders.check_rules(rules, max_filter_conditions)
    if errors:
        raise Invalid("invalid reminder rules", errors)
    stored = [{"event": r["event"], "offset_minutes": r["offset_minutes"], "filters": r.get("filters") or {}} for r in rules]
    with write_lock(session):
        rule_set = session.get(ReminderRuleSet, account_id)
        if rule_set is None:
            rule_set = ReminderRuleSet(account_id=account_id)
            session.add(rule_set)
        rule_set.timezone, rule_set.rules, rule_set.updated_at = timezone, stored, now
        # Bookings whose reminders or follow-ups may still lie ahead; older ones are history.
        horizon = now - timedelta(minutes=reminders.MAX_OFFSET_MINUTES)
        upcoming = session.scalars(
            select(ReminderBooking)
            .where(
                ReminderBooking.account_id == account_id,
                ReminderBooking.active.is_(True),
                or_(
                    func.coalesce(ReminderBooking.finish_at, ReminderBooking.start_at).is_(None),
                    func.coalesce(ReminderBooking.finish_at, ReminderBooking.start_at) >= horizon,
                ),
            )
            .with_for_update()  # as an event of the booking would (services/bookings.py)
        ).all()
        bookings.reschedule(session, upcoming, reminders.parse_rules(stored), zone, now)
        session.commit()
    return get_rules(session, account_id)


def reminders_query(account_id: int, status: str | None = None, booking_id: str | None = None):
    """The account's reminders, soonest due first, for a paginated list."""
    query = select(Reminder).where(Reminder.account_id == account_id)
    if status:
        query = query.where(Reminder.status == status)
    if booking_id:
        query = query.where(Reminder.booking_id == booking_id)
    return query.order_by(Reminder.due_at, Reminder.id)


@dataclass(frozen=True)
class Fired:
    fired: int
    skipped: int


def fire_due(session: Session, now: datetime, max_lateness: timedelta, limit: int = 500) -> Fired:
    """Publish every due reminder as a `reminder` event (role 7, the booking as object); one batch.

    A reminder more than `max_lateness` overdue (the connector was down) is recorded as
    skipped instead. Claiming (pending → fired, only where still pending) and publishing
    happen in one transaction, so several workers never fire one twice and a crash loses none.
    """
    with write_lock(session):
        conn = session.connection()
        skipped = conn.execute(
            update(Reminder.__table__)
            .where(_R.status == "pending", _R.due_at < now - max_lateness)
            .values(status="skipped", finished_at=now)
        ).rowcount
        due = select(_R.id).where(_R.status == "pending", _R.due_at <= now).order_by(_R.due_at).limit(limit)
        if conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = conn.execute(
            update(Reminder.__table__)
            .where(_R.id.in_(due.scalar_subquery()), _R.status == "pending")
            .values(status="fired", finished_at=now)
            .returning(_R.id, _R.account_id, _R.booking_id, _R.event, _R.due_at)
        ).all()
        by_account: dict[int, list[Any]] = defaultdict(list)
        for row in claimed:
            by_account[row.account_id].append(row)
        for account_id, rows in by_account.items():
            data = {
                b.booking_id: b.data
                for b in session.scalars(
                    select(ReminderBooking).where(
                        ReminderBooking.account_id == account_id,
                        ReminderBooking.booking_id.in_({r.booking_id for r in rows}),
                    )
                )
            }
            events = [publish.NewEvent("reminder", r.event, reminders.SYSTEM_ROLE, r.due_at, data[r.booking_id]) for r in rows]
            publish.publish(session, account_id, events, now)
            for row, event in zip(rows, events, strict=True):
                conn.execute(update(Reminder.__table__).where(_R.id == row.id).values(event_id=event.id))
        session.commit()
    return Fired(len(claimed), skipped)


def fire_all_due(session: Session, now: datetime, max_lateness: timedelta, batch: int = 500) -> Fired:
    """fire_due until nothing is left: the scheduler's job."""
    fired = skipped = 0
    while True:
        result = fire_due(session, now, max_lateness, batch)
        fired, skipped = fired + result.fired, skipped + result.skipped
        if result.fired < batch:
            return Fired(fired, skipped)


def purge(session: Session, now: datetime, retention: timedelta) -> int:
    """Delete reminders finished before the retention cutoff, and bookings long past with none pending."""
    cutoff = now - retention
    removed = session.execute(
        delete(Reminder).where(Reminder.status != "pending", Reminder.finished_at < cutoff),
        execution_options={"synchronize_session": False},
    ).rowcount
    ended = func.coalesce(ReminderBooking.finish_at, ReminderBooking.start_at, ReminderBooking.updated_at)
    session.execute(
        delete(ReminderBooking).where(
            ended < cutoff,
            ~exists().where(
                Reminder.account_id == ReminderBooking.account_id,
                Reminder.booking_id == ReminderBooking.booking_id,
                Reminder.status == "pending",
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    return removed
