"""Sample objects for field mapping: the account's latest real payloads, else the canned ones."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import payloads
from ..models import Event, EventTrigger

SAMPLE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sample_objects")


@cache
def canned(trigger: str) -> tuple[dict[str, Any], ...]:
    """The objects of sample_objects/<trigger>.json, newest first."""
    with open(os.path.join(SAMPLE_DIR, f"{trigger}.json"), encoding="utf-8") as f:
        return tuple(json.load(f))


def latest_payloads(
    session: Session, account_id: int, trigger: str, limit: int, after_seq: int | None = None
) -> list[dict[str, Any]]:
    """The account's real payloads for a trigger, newest first (newer than `after_seq` if given)."""
    query = (
        select(Event)
        .join(EventTrigger, EventTrigger.event_seq == Event.seq)
        .where(EventTrigger.account_id == account_id, EventTrigger.trigger == trigger)
        .order_by(EventTrigger.event_seq.desc())
        .limit(limit)
    )
    if after_seq is not None:
        query = query.where(EventTrigger.event_seq > after_seq)
    return [payloads.build(event, trigger) for event in session.scalars(query)]


def samples(session: Session, account_id: int, trigger: str, limit: int) -> list[dict[str, Any]]:
    real = latest_payloads(session, account_id, trigger, limit)
    return real or [dict(s) for s in canned(trigger)[:limit]]
