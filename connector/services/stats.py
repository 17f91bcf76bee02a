"""The connector's state as numbers, read from the database: the queue and the hooks.

The same for every process that asks (the metrics' gauges are computed here at scrape
time, so any number of web and worker processes report one truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import Delivery, Hook

QUEUE_STATES = ("due", "in_flight", "scheduled", "held")
HOOK_STATUSES = ("active", "paused", "disabled")


@dataclass(frozen=True)
class QueueStats:
    """Pending deliveries by state, and how long the oldest due one has waited (0 if none)."""

    depth: dict[str, int] = field(default_factory=dict)
    oldest_due_age_seconds: float = 0.0
    hooks: dict[str, int] = field(default_factory=dict)


def queue_stats(session: Session, now: datetime) -> QueueStats:
    """Pending deliveries: `due` (waiting for a dispatcher), `in_flight` (leased), `scheduled`
    (a retry later), `held` (their hook is paused or disabled); and hooks by status."""
    d, h = Delivery.__table__.c, Hook.__table__.c
    state = case(
        (h.status != "active", "held"),
        (d.lease_expires_at > now, "in_flight"),
        (d.next_attempt_at <= now, "due"),
        else_="scheduled",
    ).label("state")
    rows = session.execute(
        select(state, func.count(), func.min(d.next_attempt_at))
        .select_from(Delivery.__table__.join(Hook.__table__, h.id == d.hook_id))
        .where(d.status == "pending")
        .group_by(state)
    ).all()
    depth = dict.fromkeys(QUEUE_STATES, 0)
    oldest = 0.0
    for name, count, first_due in rows:
        depth[name] = count
        if name == "due" and first_due is not None:
            oldest = max(0.0, (now - first_due).total_seconds())
    hooks = dict.fromkeys(HOOK_STATUSES, 0)
    for status, count in session.execute(select(h.status, func.count()).where(h.status != "deleted").group_by(h.status)).all():
        hooks[status] = count
    session.rollback()  # read only
    return QueueStats(depth, oldest, hooks)
