"""Publishing events: route each to its triggers and matching hooks, store event and deliveries at once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import filters, payloads, rawsql
from ..db import write_lock
from ..delivery.jobs import Job
from ..delivery.store import hook_secrets
from ..delivery.wakeups import notify_due
from ..ids import new_id
from ..models import Delivery, Event, EventTrigger, Hook, IdempotencyKey
from . import bookings
from .errors import Conflict

_H = Hook.__table__.c
_ACTIVE_HOOKS = select(
    _H.id, _H.trigger, _H.target_url, _H.filters, _H.secret, _H.previous_secret, _H.previous_secret_expires_at
).where(_H.account_id == bindparam("account_id"), _H.status == "active", _H.trigger.in_(bindparam("triggers", expanding=True)))
_INSERT_EVENTS = insert(Event.__table__).returning(Event.__table__.c.seq, sort_by_parameter_order=True)
_INSERT_EVENT_TRIGGERS = insert(EventTrigger.__table__)
_INSERT_DELIVERIES = insert(Delivery.__table__)
# The same on SQLite's own cursor (see rawsql.py for the figures).
_RAW_INSERT_EVENTS = rawsql.RawInsert(Event.__table__, returning="seq")
_RAW_INSERT_EVENT_TRIGGERS = rawsql.RawInsert(EventTrigger.__table__)
_RAW_INSERT_DELIVERIES = rawsql.RawInsert(Delivery.__table__)
_HOOK_COLUMNS = (_H.id, _H.trigger, _H.target_url, _H.filters, _H.secret, _H.previous_secret, _H.previous_secret_expires_at)
_RAW_ACTIVE_HOOKS = rawsql.RawQuery(
    f"SELECT {rawsql.column_list(_HOOK_COLUMNS)} FROM hooks"
    " WHERE hooks.account_id = ? AND hooks.status = 'active' AND hooks.\"trigger\" IN ({ids})",
    _HOOK_COLUMNS,
)


def _active_hooks(source: Session | rawsql.RawConnection, account_id: int, triggers: list[str]) -> list[Any]:
    """The account's active hooks on these triggers, as rows with the _HOOK_COLUMNS."""
    conn = rawsql.RawConnection.of(source)
    if conn is None:
        return list(source.connection().execute(_ACTIVE_HOOKS, {"account_id": account_id, "triggers": triggers}))
    return [_HookRow(*row) for row in _RAW_ACTIVE_HOOKS.execute(conn, [account_id], triggers)]


@dataclass(frozen=True, slots=True)
class _HookRow:
    id: str
    trigger: str
    target_url: str
    filters: dict[str, Any]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True)
class NewEvent:
    object: str
    event: str
    role: int
    occurred_at: datetime
    data: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("evt"))


@dataclass(frozen=True)
class Lease:
    """Deliveries stored already leased to this process's dispatcher, which sends them at once."""

    owner: str
    duration: timedelta


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class Plan:
    """A publish worked out before any write: the rows to insert and the jobs to send."""

    events: list[dict[str, Any]]
    event_triggers: list[tuple[int, dict[str, Any]]]  # (index of the event, row)
    deliveries: list[tuple[int, dict[str, Any]]]
    answers: list[dict[str, Any]]
    jobs: list[Job]

    def store(self, source: Session | rawsql.RawConnection) -> tuple[list[dict[str, Any]], list[Job]]:
        """Insert the events, then their trigger index and deliveries (the caller commits).

        Appointment events also schedule their bookings' reminders, which needs a Session.
        """
        if isinstance(source, rawsql.RawConnection) and any(bookings.concerns(e["object"], e["data"]) for e in self.events):
            raise ValueError("appointment events schedule reminders: store them through a Session")
        raw = rawsql.RawConnection.of(source)
        if raw is not None:
            seqs = _RAW_INSERT_EVENTS.execute(raw, self.events)
        else:
            conn = source.connection()
            seqs = conn.execute(_INSERT_EVENTS, self.events).scalars().all()
        for rows, statement, raw_statement in (
            (self.event_triggers, _INSERT_EVENT_TRIGGERS, _RAW_INSERT_EVENT_TRIGGERS),
            (self.deliveries, _INSERT_DELIVERIES, _RAW_INSERT_DELIVERIES),
        ):
            if rows:
                for index, row in rows:
                    row["event_seq"] = seqs[index]
                values = [row for _, row in rows]
                if raw is not None:
                    raw_statement.execute(raw, values)
                else:
                    conn.execute(statement, values)
        if raw is None and any(row["lease_owner"] is None for _, row in self.deliveries):
            notify_due(conn)  # no dispatcher here took them: wake the others (PostgreSQL)
        if isinstance(source, Session) and self.events:
            bookings.track(source, self.events, self.events[0]["received_at"])
        return self.answers, self.jobs


def needs_session(events: Sequence[NewEvent]) -> bool:
    """Whether publishing these events schedules reminders, which the raw fast path does not."""
    return any(bookings.concerns(e.object, e.data) for e in events)


def plan(
    session: Session | rawsql.RawConnection,
    account_id: int,
    events: Sequence[NewEvent],
    now: datetime,
    lease: Lease | None = None,
) -> Plan:
    """Route each event to its triggers and to the matching active hooks, without writing."""
    routes = [payloads.route(e.object, e.event, e.data) for e in events]
    wanted = {t for triggers in routes for t in triggers}
    hooks: dict[str, list[Any]] = {}
    if wanted:
        for hook in _active_hooks(session, account_id, sorted(wanted)):
            hooks.setdefault(hook.trigger, []).append(hook)
    lease_fields = {
        "lease_owner": lease.owner if lease else None,
        "lease_expires_at": now + lease.duration if lease else None,
    }
    result = Plan([], [], [], [], [])
    for index, (event, triggers) in enumerate(zip(events, routes, strict=True)):
        result.events.append(
            {
                "id": event.id,
                "account_id": account_id,
                "object": event.object,
                "event": event.event,
                "role": event.role,
                "occurred_at": event.occurred_at,
                "received_at": now,
                "data": event.data,
            }
        )
        count = 0
        for trigger in triggers:
            result.event_triggers.append((index, {"trigger": trigger, "account_id": account_id}))
            candidates = hooks.get(trigger, ())
            if not candidates:
                continue
            payload = payloads.build(event, trigger)
            body = None
            for hook in candidates:
                if not filters.matches(hook.filters, payload):
                    continue
                delivery_id = new_id("msg")
                result.deliveries.append(
                    (
                        index,
                        {
                            "id": delivery_id,
                            "account_id": account_id,
                            "hook_id": hook.id,
                            "trigger": trigger,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            **lease_fields,
                        },
                    )
                )
                if lease:
                    body = body or payloads.encode(payload)
                    secrets = hook_secrets(hook.secret, hook.previous_secret, hook.previous_secret_expires_at, now)
                    result.jobs.append(Job(delivery_id, hook.id, hook.target_url, body, secrets, 0))
                count += 1
        result.answers.append({"id": event.id, "triggers": list(triggers), "deliveries": count})
    return result


def publish(
    session: Session,
    account_id: int,
    events: Sequence[NewEvent],
    now: datetime,
    lease: Lease | None = None,
) -> tuple[list[dict[str, Any]], list[Job]]:
    """Store events and their deliveries in the session's transaction (the caller commits).

    Returns one answer per event ({id, triggers, deliveries}) and the jobs to send
    now when `lease` is given.
    """
    return plan(session, account_id, events, now, lease).store(session)


def replay(session: Session, account_id: int, key: str, body_hash: str) -> Any | None:
    """The stored answer for a repeated Idempotency-Key; a 409 if the body differs."""
    row = session.get(IdempotencyKey, (account_id, key))
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise Conflict(f"Idempotency-Key {key!r} was used with another request body")
    return row.response


def remember(session: Session, account_id: int, key: str, body_hash: str, response: Any, now: datetime) -> None:
    session.add(IdempotencyKey(account_id=account_id, key=key, request_hash=body_hash, response=response, created_at=now))


def publish_on(
    raw: rawsql.RawConnection,
    writer: AbstractContextManager[Any],
    account_id: int,
    events: Sequence[NewEvent],
    now: datetime,
    *,
    make_response: Any,
    lease: Lease | None = None,
) -> tuple[Any, list[Job]]:
    """One publish request on a raw SQLite connection, committed: (response, jobs to send now).

    The ingest hot path: no ORM session; `writer` is the database's write lock.
    """
    try:
        with writer:
            answers, jobs = plan(raw, account_id, events, now, lease).store(raw)
            raw.dbapi.commit()
    except BaseException:
        raw.dbapi.rollback()
        raise
    return make_response(answers), jobs


def publish_request(
    session: Session,
    account_id: int,
    events: Sequence[NewEvent],
    now: datetime,
    *,
    make_response: Any,
    idempotency: tuple[str, str] | None = None,
    lease: Lease | None = None,
) -> tuple[Any, list[Job], bool]:
    """One publish request, committed: (response, jobs to send now, whether it was a replay).

    With an Idempotency-Key the first answer is stored in the same transaction as
    the events, so a repeat returns it and stores nothing new.
    """
    if idempotency:
        stored = replay(session, account_id, *idempotency)
        if stored is not None:
            return stored, [], True
    try:
        with write_lock(session):
            answers, jobs = plan(session, account_id, events, now, lease).store(session)
            response = make_response(answers)
            if idempotency:
                remember(session, account_id, *idempotency, response, now)
            session.commit()
    except IntegrityError:
        # The same key was committed by a concurrent request in the meantime.
        session.rollback()
        if idempotency:
            stored = replay(session, account_id, *idempotency)
            if stored is not None:
                return stored, [], True
        raise
    return response, jobs, False
