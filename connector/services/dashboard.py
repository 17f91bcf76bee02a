"""What the operator dashboard reads: sign-in, hooks with their last 24 hours, events,
deliveries failed first, deliveries per minute, reminder rules. Plain queries, no Flask.

What the dashboard changes goes through the same services as the API (hooks.update_hook,
deliveries.retry_delivery, recover_hook, rotate_secret, send_test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from .. import models
from ..models import ApiKey, Attempt, Delivery, Event, EventTrigger, Hook
from . import accounts
from .deliveries import deliveries_query
from .hooks import hooks_query

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
CHART_OUTCOMES = ("succeeded", "pending", "failed", "cancelled")
# Failed deliveries first: they are what an operator comes to fix.
STATUS_ORDER = {"failed": 0, "cancelled": 1, "pending": 2, "succeeded": 3}


# ----- signing in -----


@dataclass(frozen=True)
class SignedIn:
    account: accounts.AccountView
    key_id: int
    key_prefix: str


def sign_in(session: Session, key: str) -> SignedIn | None:
    """The account and key row for an API key given on the sign-in form, or None."""
    account = accounts.authenticate(session, key.strip())
    if account is None:
        return None
    prefix = key.strip().split("_")[1]
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
    session.rollback()
    return SignedIn(account, key_id, prefix)


def signed_in(session: Session, key_id: int) -> accounts.AccountView | None:
    """The account of a dashboard session while the key it signed in with is not revoked."""
    row = session.execute(
        select(models.Account.id, models.Account.name, models.Account.created_at)
        .join(ApiKey, ApiKey.account_id == models.Account.id)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    ).first()
    session.rollback()
    return accounts.AccountView(*row) if row else None


# ----- hooks and their last 24 hours -----


@dataclass
class HookHealth:
    """A hook with its deliveries created in the last 24 hours."""

    hook: Hook
    counts: dict[str, int] = field(default_factory=dict)
    attempted: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def success_rate(self) -> float | None:
        """Succeeded ÷ attempted (retries still running count as not yet succeeded); None if none."""
        return self.counts.get("succeeded", 0) / self.attempted if self.attempted else None


def hooks_health(session: Session, account_id: int, now: datetime, hook_id: str | None = None) -> list[HookHealth]:
    """The account's hooks (or one of them), oldest first, with success rate and last error over 24 h."""
    query = hooks_query(account_id)
    if hook_id is not None:
        query = query.where(Hook.id == hook_id)
    hooks = [HookHealth(hook) for hook in session.scalars(query)]
    by_id = {h.hook.id: h for h in hooks}
    since = now - DAY
    d = Delivery.__table__.c
    recent = (d.account_id == account_id, d.created_at >= since)
    if hook_id is not None:
        recent += (d.hook_id == hook_id,)
    for hook_id, status, count, attempted in session.execute(
        select(d.hook_id, d.status, func.count(), func.sum(case((d.attempts > 0, 1), else_=0)))
        .where(*recent)
        .group_by(d.hook_id, d.status)
    ):
        if hook_id in by_id:
            by_id[hook_id].counts[status] = count
            by_id[hook_id].attempted += int(attempted or 0)
    a = Attempt.__table__.c
    ranked = (
        select(
            d.hook_id,
            a.status_code,
            a.error,
            a.started_at,
            func.row_number().over(partition_by=d.hook_id, order_by=a.id.desc()).label("n"),
        )
        .select_from(Attempt.__table__.join(Delivery.__table__, d.id == a.delivery_id))
        .where(*recent, a.outcome != "succeeded")
        .subquery()
    )
    r = ranked.c
    for hook_id, status_code, error, started_at in session.execute(
        select(r.hook_id, r.status_code, r.error, r.started_at).where(r.n == 1)
    ):
        if hook_id in by_id:
            by_id[hook_id].last_error = error or f"HTTP {status_code}"
            by_id[hook_id].last_error_at = started_at
    return hooks


# ----- events -----


@dataclass(frozen=True)
class EventRow:
    event: Event
    triggers: list[str]
    deliveries: int


def recent_events(
    session: Session,
    account_id: int,
    trigger: str | None = None,
    event: str | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[EventRow]:
    """The account's events, newest first, narrowed by trigger and event value; `before_seq` pages."""
    query = select(Event).where(Event.account_id == account_id).options(selectinload(Event.triggers))
    if trigger:
        query = query.where(
            select(EventTrigger.event_seq).where(EventTrigger.event_seq == Event.seq, EventTrigger.trigger == trigger).exists()
        )
    if event:
        query = query.where(Event.event == event)
    if before_seq is not None:
        query = query.where(Event.seq < before_seq)
    events = list(session.scalars(query.order_by(Event.seq.desc()).limit(limit)))
    counts = dict(
        session.execute(
            select(Delivery.event_seq, func.count())
            .where(Delivery.event_seq.in_([e.seq for e in events]))
            .group_by(Delivery.event_seq)
        ).all()
    )
    return [EventRow(e, sorted(t.trigger for t in e.triggers), counts.get(e.seq, 0)) for e in events]


# ----- deliveries -----


def deliveries_page(
    session: Session,
    account_id: int,
    *,
    hook_id: str | None = None,
    event_id: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Delivery], bool]:
    """One page of the account's deliveries, failed first then newest first, with their
    attempts and hooks; and whether another page follows."""
    d = Delivery.__table__.c
    order = case(STATUS_ORDER, value=d.status, else_=len(STATUS_ORDER))
    query: Select[tuple[Delivery]] = (
        deliveries_query(account_id, hook_id, event_id, status)
        .order_by(None)
        .order_by(order, d.created_at.desc(), d.id.desc())
        .options(selectinload(Delivery.attempt_log), selectinload(Delivery.hook))
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    )
    rows = list(session.scalars(query))
    return rows[:page_size], len(rows) > page_size


# ----- deliveries per minute -----


@dataclass(frozen=True)
class MinuteCounts:
    start: datetime  # the first minute of the chart, UTC
    minutes: list[dict[str, int]]  # 60 entries, oldest first: outcome → deliveries created that minute


def deliveries_per_minute(session: Session, account_id: int, now: datetime) -> MinuteCounts:
    """Deliveries created in each of the last 60 minutes, by their status now."""
    d = Delivery.__table__.c
    start = (now - HOUR).replace(second=0, microsecond=0) + timedelta(minutes=1)
    if session.get_bind().dialect.name == "postgresql":
        bucket = func.to_char(func.date_trunc("minute", d.created_at), "YYYY-MM-DD HH24:MI")
    else:
        bucket = func.strftime("%Y-%m-%d %H:%M", d.created_at)
    minutes: list[dict[str, int]] = [dict.fromkeys(CHART_OUTCOMES, 0) for _ in range(60)]
    rows = session.execute(
        select(bucket, d.status, func.count()).where(d.account_id == account_id, d.created_at >= start).group_by(bucket, d.status)
    )
    for minute, status, count in rows:
        at = datetime.strptime(minute, "%Y-%m-%d %H:%M").replace(tzinfo=start.tzinfo)
        index = int((at - start).total_seconds() // 60)
        if 0 <= index < 60 and status in CHART_OUTCOMES:
            minutes[index][status] += count
    return MinuteCounts(start, minutes)


# ----- reminder rules -----


def reminder_rules(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The account's reminder rules as {column: value}; [] while the reminder model does not
    exist (it comes with the reminders feature, GET /api/v1/reminder-rules)."""
    model = getattr(models, "ReminderRule", None)
    if model is None:
        return []
    table = model.__table__
    query = select(table).where(table.c.account_id == account_id)
    order = [c for c in table.primary_key.columns]
    rows = session.execute(query.order_by(*order)).mappings()
    return [{k: v for k, v in row.items() if k != "account_id"} for row in rows]
