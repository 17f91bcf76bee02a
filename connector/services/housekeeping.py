"""Periodic upkeep: disable hooks that keep failing, purge what is past retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from ..delivery.store import end_hooks
from ..models import Delivery, Event, Hook, IdempotencyKey


def disable_failing_hooks(session: Session, now: datetime, after: timedelta) -> list[str]:
    """Disable active hooks where nothing succeeded since failures began `after` ago; their ids."""
    rows = session.execute(
        select(Hook.id, Hook.failing_since).where(Hook.status == "active", Hook.failing_since <= now - after)
    ).all()
    for hook_id, since in rows:
        hours = (now - since).total_seconds() / 3600
        reason = f"no delivery succeeded since {since:%Y-%m-%d %H:%M} UTC ({hours / 24:.1f} days of failures)"
        end_hooks(session, [hook_id], reason, now)
    session.commit()
    return [hook_id for hook_id, _ in rows]


def purge(session: Session, now: datetime, retention: timedelta) -> dict[str, int]:
    """Delete finished deliveries (with their attempts), events and idempotency keys past retention."""
    cutoff = now - retention
    deliveries = session.execute(
        delete(Delivery).where(Delivery.created_at < cutoff, Delivery.status != "pending"),
        execution_options={"synchronize_session": False},
    ).rowcount
    events = session.execute(
        delete(Event).where(
            Event.received_at < cutoff,
            ~exists().where(Delivery.event_seq == Event.seq),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    keys = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.commit()
    return {"deliveries": deliveries, "events": events, "idempotency_keys": keys}
