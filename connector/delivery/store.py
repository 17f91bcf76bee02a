"""The dispatcher's database work, in batches: claim due deliveries, load them, record attempts.

Plain SQLAlchemy Core over a Session, time passed in; no Flask. Claims are leases:
a delivery belongs to one dispatcher until its lease runs out, so a dispatcher that
dies mid-attempt loses nothing: another one claims the delivery when the lease ends.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from .. import payloads, rawsql
from ..models import Attempt, Delivery, Event, Hook
from .jobs import Job
from .retry import RetryPolicy, Verdict, classify, parse_retry_after
from .transport import AttemptResult
from .wakeups import notify_due

GONE_REASON = "the target answered 410 Gone: subscription ended"
# The hot statements use the tables directly: Core, without the ORM's per-statement work.
_DELIVERIES = Delivery.__table__
_RAW_INSERT_ATTEMPTS = rawsql.RawInsert(Attempt.__table__)

# Statements of `record`, built once: it runs for every batch of attempts, which in real
# time is often a batch of one, where building a statement cost more than running it.
# (No status test in the WHERE: SQLite would pick the status index over the primary key.)
_D = _DELIVERIES.c
_RECORD_SUCCEEDED = (
    update(_DELIVERIES)
    .where(_D.id.in_(bindparam("b_ids", expanding=True)), _D.lease_owner == bindparam("b_owner"))
    .values(
        status="succeeded",
        attempts=_D.attempts + 1,
        next_attempt_at=None,
        lease_owner=None,
        lease_expires_at=None,
        last_attempt_at=bindparam("b_now"),
        last_status_code=bindparam("b_code"),
        last_error=None,
    )
)
_RECORD_OTHER = (
    update(_DELIVERIES)
    .where(_D.id == bindparam("b_id"), _D.lease_owner == bindparam("b_owner"))
    .values(
        status=bindparam("b_status"),
        attempts=_D.attempts + 1,
        next_attempt_at=bindparam("b_next"),
        lease_owner=None,
        lease_expires_at=None,
        last_attempt_at=bindparam("b_at"),
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
    )
)
_HOOKS = Hook.__table__
_HOOKS_SUCCEEDED = (
    update(_HOOKS)
    .where(_HOOKS.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(last_success_at=bindparam("b_now"), failing_since=None)
)
# The same two on SQLite's own cursor (rawsql.py): the common case of `record`.
_RAW_RECORD_SUCCEEDED = rawsql.RawUpdate(
    "UPDATE deliveries SET status = 'succeeded', attempts = attempts + 1, next_attempt_at = NULL,"
    " lease_owner = NULL, lease_expires_at = NULL, last_attempt_at = ?, last_status_code = ?, last_error = NULL"
    " WHERE lease_owner = ? AND id IN ({ids})",
    (_D.last_attempt_at, _D.last_status_code, _D.lease_owner),
)
_RAW_HOOKS_SUCCEEDED = rawsql.RawUpdate(
    "UPDATE hooks SET last_success_at = ?, failing_since = NULL WHERE id IN ({ids})", (_HOOKS.c.last_success_at,)
)
_HOOKS_FAILING = (
    update(_HOOKS)
    .where(_HOOKS.c.id.in_(bindparam("b_ids", expanding=True)), _HOOKS.c.failing_since.is_(None))
    .values(failing_since=bindparam("b_now"))
)


def hook_secrets(secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime) -> tuple[str, ...]:
    """The secrets that sign a request: the current one, and the previous one while in grace."""
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return (secret, previous)
    return (secret,)


def _due(now: datetime, limit: int, skip_hooks: Sequence[str]) -> Select[tuple[str]]:
    """Due deliveries of active hooks, oldest due first."""
    d, hooks = _DELIVERIES.c, Hook.__table__.c
    due = (
        select(d.id)
        .join(Hook.__table__, hooks.id == d.hook_id)
        .where(
            d.status == "pending",
            d.next_attempt_at <= now,
            or_(d.lease_expires_at.is_(None), d.lease_expires_at <= now),
            hooks.status == "active",
        )
        .order_by(d.next_attempt_at)
        .limit(limit)
    )
    return due.where(d.hook_id.not_in(skip_hooks)) if skip_hooks else due


def any_due(session: Session, now: datetime, skip_hooks: Iterable[str] = ()) -> bool:
    """Whether a claim would find anything: a read, so an idle poll takes no write lock."""
    found = session.connection().execute(_due(now, 1, list(skip_hooks))).first() is not None
    session.rollback()
    return found


def claim_due(
    session: Session,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    skip_hooks: Iterable[str] = (),
) -> list[str]:
    """Lease up to `limit` due deliveries of active hooks to `owner`; their ids, oldest due first.

    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED, so dispatchers
    claiming at once never wait on, nor take, each other's rows.
    """
    d = _DELIVERIES.c
    due = _due(now, limit, list(skip_hooks))
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=_DELIVERIES)
    claimed = conn.execute(
        update(_DELIVERIES)
        .where(d.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(d.id)
    ).scalars()
    ids = list(claimed)
    session.commit()
    return ids


@dataclass(frozen=True, slots=True)
class _EventRow:
    """The columns of an event that a payload is built from (no ORM identity to expire)."""

    seq: int
    id: str
    object: str
    event: str
    role: int
    occurred_at: datetime
    data: dict


_JOB_COLUMNS = (
    _D.id,
    _D.hook_id,
    _D.trigger,
    _D.attempts,
    _D.event_seq,
    _HOOKS.c.target_url,
    _HOOKS.c.secret,
    _HOOKS.c.previous_secret,
    _HOOKS.c.previous_secret_expires_at,
)
_EVENT_COLUMNS = tuple(Event.__table__.c[name] for name in ("seq", "id", "object", "event", "role", "occurred_at", "data"))
_JOBS = select(*_JOB_COLUMNS).join(_HOOKS, _HOOKS.c.id == _D.hook_id).where(_D.id.in_(bindparam("b_ids", expanding=True)))
_EVENTS = select(*_EVENT_COLUMNS).where(Event.__table__.c.seq.in_(bindparam("b_ids", expanding=True)))
# The same two on SQLite's own cursor: loading a claimed batch is the dispatcher's largest
# piece of database work (per job ~60 µs through Core, most of it around the queries).
_RAW_JOBS = rawsql.RawQuery(
    f"SELECT {rawsql.column_list(_JOB_COLUMNS)} FROM deliveries JOIN hooks ON hooks.id = deliveries.hook_id"
    " WHERE deliveries.id IN ({ids})",
    _JOB_COLUMNS,
)
_RAW_EVENTS = rawsql.RawQuery(
    f"SELECT {rawsql.column_list(_EVENT_COLUMNS)} FROM events WHERE events.seq IN ({{ids}})", _EVENT_COLUMNS
)


def _select_in(session: Session, query: Select, raw_query: rawsql.RawQuery, ids: Sequence[Any]) -> Sequence[Sequence[Any]]:
    raw = rawsql.RawConnection.of(session)
    if raw is not None:
        return raw_query.execute(raw, (), ids)
    return session.connection().execute(query, {"b_ids": list(ids)}).all()


def load_jobs(session: Session, delivery_ids: Sequence[str], now: datetime) -> list[Job]:
    """The claimed deliveries as jobs: target, signing secrets and the payload's exact bytes."""
    if not delivery_ids:
        return []
    rows = _select_in(session, _JOBS, _RAW_JOBS, delivery_ids)
    events = {row[0]: _EventRow(*row) for row in _select_in(session, _EVENTS, _RAW_EVENTS, list({r[4] for r in rows}))}
    session.rollback()  # read only: end the transaction, keep nothing open between batches
    bodies: dict[tuple[int, str], bytes] = {}
    jobs = []
    for delivery_id, hook_id, trigger, attempts, event_seq, url, secret, previous, previous_expires in rows:
        key = (event_seq, trigger)
        body = bodies.get(key)
        if body is None:
            body = bodies[key] = payloads.encode(payloads.build(events[event_seq], trigger))
        secrets = hook_secrets(secret, previous, previous_expires, now)
        jobs.append(Job(delivery_id, hook_id, url, body, secrets, attempts))
    return jobs


@dataclass(frozen=True)
class Outcome:
    """What recording decided for one attempt."""

    delivery_id: str
    hook_id: str
    verdict: Verdict
    next_attempt_at: datetime | None

    @property
    def name(self) -> str:
        """succeeded, retry, failed or gone: as the attempt log records it."""
        return _attempt_outcome(self)


def decide(job: Job, result: AttemptResult, now: datetime, policy: RetryPolicy, rand: float) -> Outcome:
    """Pure: the outcome of one attempt under the retry policy."""
    verdict = classify(result.status_code)
    next_at = None
    if verdict is Verdict.RETRY:
        retry_after = parse_retry_after(result.retry_after, now)
        next_at = policy.next_attempt_at(job.attempts + 1, now, retry_after, rand)
    return Outcome(job.delivery_id, job.hook_id, verdict, next_at)


def _attempt_outcome(outcome: Outcome) -> str:
    if outcome.verdict is Verdict.SUCCEEDED:
        return "succeeded"
    if outcome.verdict is Verdict.GONE:
        return "gone"
    return "retry" if outcome.next_attempt_at else "failed"


def record(
    session: Session,
    owner: str,
    results: Sequence[tuple[Job, AttemptResult]],
    now: datetime,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> list[Outcome]:
    """Record a batch of attempts and move each delivery on, in one transaction.

    Only deliveries still leased to `owner` change: if a lease ran out and another
    dispatcher took over, or the delivery was cancelled meanwhile, that record stands.
    """
    if not results:
        return []
    outcomes = [decide(job, result, now, policy, rand()) for job, result in results]
    conn = session.connection()
    attempts = [
        {
            "delivery_id": job.delivery_id,
            "started_at": result.started_at,
            "duration_ms": result.duration_ms,
            "status_code": result.status_code,
            "error": result.error,
            "response_excerpt": result.response_excerpt,
            "outcome": _attempt_outcome(outcome),
        }
        for (job, result), outcome in zip(results, outcomes, strict=True)
    ]
    raw = rawsql.RawConnection.of(session)
    if raw is not None:
        _RAW_INSERT_ATTEMPTS.execute(raw, attempts)
    else:
        conn.execute(Attempt.__table__.insert(), attempts)
    # Successes (nearly all of them) move on in one statement per status code; the rest one by one.
    succeeded: dict[int | None, list[str]] = {}
    others = []
    for (job, result), outcome in zip(results, outcomes, strict=True):
        if outcome.verdict is Verdict.SUCCEEDED:
            succeeded.setdefault(result.status_code, []).append(job.delivery_id)
        else:
            others.append(
                {
                    "b_id": job.delivery_id,
                    "b_status": "pending" if outcome.next_attempt_at else "failed",
                    "b_next": outcome.next_attempt_at,
                    "b_at": result.started_at,
                    "b_code": result.status_code,
                    "b_error": result.error,
                }
            )
    # Ours only while we hold the lease: every path that changes a delivery's status clears it.
    for code, ids in succeeded.items():
        if raw is not None:
            _RAW_RECORD_SUCCEEDED.execute(raw, (now, code, owner), ids)
        else:
            conn.execute(_RECORD_SUCCEEDED, {"b_ids": ids, "b_owner": owner, "b_now": now, "b_code": code})
    if others:
        conn.execute(_RECORD_OTHER, [{**row, "b_owner": owner} for row in others])
    _update_hooks(conn, outcomes, now, raw)
    session.commit()
    return outcomes


def _update_hooks(conn: Connection, outcomes: Sequence[Outcome], now: datetime, raw: rawsql.RawConnection | None) -> None:
    succeeded = {o.hook_id for o in outcomes if o.verdict is Verdict.SUCCEEDED}
    failed = {o.hook_id for o in outcomes if o.verdict is Verdict.RETRY} - succeeded
    gone = {o.hook_id for o in outcomes if o.verdict is Verdict.GONE}
    if succeeded and raw is not None:
        _RAW_HOOKS_SUCCEEDED.execute(raw, (now,), sorted(succeeded))
    elif succeeded:
        conn.execute(_HOOKS_SUCCEEDED, {"b_ids": list(succeeded), "b_now": now})
    if failed:
        conn.execute(_HOOKS_FAILING, {"b_ids": list(failed), "b_now": now})
    if gone:
        end_hooks(conn, gone, GONE_REASON, now)


def end_hooks(conn: Connection | Session, hook_ids: Iterable[str], reason: str, now: datetime) -> None:
    """Disable hooks with a reason and cancel their pending deliveries (caller commits)."""
    ids = list(hook_ids)
    hooks = Hook.__table__
    conn.execute(
        update(hooks)
        .where(hooks.c.id.in_(ids), hooks.c.status.in_(("active", "paused")))
        .values(status="disabled", disabled_reason=reason, updated_at=now)
    )
    conn.execute(
        update(_DELIVERIES)
        .where(_DELIVERIES.c.hook_id.in_(ids), _DELIVERIES.c.status == "pending")
        .values(status="cancelled", next_attempt_at=None, lease_owner=None, lease_expires_at=None, last_error=reason)
    )


def release(session: Session, owner: str, delivery_ids: Sequence[str]) -> None:
    """Give back leases without an attempt (shutdown): the deliveries are due again at once."""
    if delivery_ids:
        session.connection().execute(
            update(_DELIVERIES)
            .where(_DELIVERIES.c.id.in_(list(delivery_ids)), _DELIVERIES.c.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
        )
        notify_due(session)  # another process may take them now
    session.commit()


def renew(session: Session, owner: str, delivery_ids: Sequence[str], now: datetime, lease: timedelta) -> int:
    """Extend the leases of deliveries still in hand (queued behind a slow host, say), so that no
    other process takes them while this one is alive; a dead owner's leases still run out."""
    renewed = 0
    ids = list(delivery_ids)
    for start in range(0, len(ids), 500):
        renewed += (
            session.connection()
            .execute(
                update(_DELIVERIES)
                .where(
                    _DELIVERIES.c.id.in_(ids[start : start + 500]),
                    _DELIVERIES.c.lease_owner == owner,
                    _DELIVERIES.c.status == "pending",
                )
                .values(lease_expires_at=now + lease)
            )
            .rowcount
        )
    session.commit()
    return renewed
