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

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from .. import payloads
from ..models import Attempt, Delivery, Event, Hook
from .jobs import Job
from .retry import RetryPolicy, Verdict, classify, parse_retry_after
from .transport import AttemptResult

GONE_REASON = "the target answered 410 Gone: subscription ended"


def hook_secrets(secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime) -> tuple[str, ...]:
    """The secrets that sign a request: the current one, and the previous one while in grace."""
    if previous and previous_expires_at is not None and previous_expires_at > now:
        return (secret, previous)
    return (secret,)


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
    due = (
        select(Delivery.id)
        .join(Hook, Hook.id == Delivery.hook_id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at <= now),
            Hook.status == "active",
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    skip = list(skip_hooks)
    if skip:
        due = due.where(Delivery.hook_id.not_in(skip))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=Delivery)
    claimed = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(Delivery.id)
    ).scalars()
    ids = list(claimed)
    session.commit()
    return ids


def load_jobs(session: Session, delivery_ids: Sequence[str], now: datetime) -> list[Job]:
    """The claimed deliveries as jobs: target, signing secrets and the payload's exact bytes."""
    if not delivery_ids:
        return []
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.hook_id,
            Delivery.trigger,
            Delivery.attempts,
            Hook.target_url,
            Hook.secret,
            Hook.previous_secret,
            Hook.previous_secret_expires_at,
            Event,
        )
        .join(Hook, Hook.id == Delivery.hook_id)
        .join(Event, Event.seq == Delivery.event_seq)
        .where(Delivery.id.in_(delivery_ids))
    ).all()
    session.rollback()  # read only: end the transaction, keep nothing open between batches
    bodies: dict[tuple[int, str], bytes] = {}
    jobs = []
    for row in rows:
        key = (row.Event.seq, row.trigger)
        if key not in bodies:
            bodies[key] = payloads.encode(payloads.build(row.Event, row.trigger))
        secrets = hook_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
        jobs.append(Job(row.id, row.hook_id, row.target_url, bodies[key], secrets, row.attempts))
    return jobs


@dataclass(frozen=True)
class Outcome:
    """What recording decided for one attempt."""

    delivery_id: str
    hook_id: str
    verdict: Verdict
    next_attempt_at: datetime | None


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

    Only deliveries still leased to `owner` and still pending change: if a lease
    ran out and another dispatcher took over, its record stands.
    """
    if not results:
        return []
    outcomes = [decide(job, result, now, policy, rand()) for job, result in results]
    session.execute(
        Attempt.__table__.insert(),
        [
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
        ],
    )
    table = Delivery.__table__
    session.execute(
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.lease_owner == owner,
            table.c.status == "pending",
        )
        .values(
            status=bindparam("b_status"),
            attempts=table.c.attempts + 1,
            next_attempt_at=bindparam("b_next"),
            lease_owner=None,
            lease_expires_at=None,
            last_attempt_at=bindparam("b_at"),
            last_status_code=bindparam("b_code"),
            last_error=bindparam("b_error"),
        ),
        [
            {
                "b_id": job.delivery_id,
                "b_status": {"succeeded": "succeeded", "retry": "pending"}.get(_attempt_outcome(outcome), "failed"),
                "b_next": outcome.next_attempt_at,
                "b_at": result.started_at,
                "b_code": result.status_code,
                "b_error": result.error,
            }
            for (job, result), outcome in zip(results, outcomes, strict=True)
        ],
        execution_options={"synchronize_session": False},
    )
    _update_hooks(session, outcomes, now)
    session.commit()
    return outcomes


def _update_hooks(session: Session, outcomes: Sequence[Outcome], now: datetime) -> None:
    succeeded = {o.hook_id for o in outcomes if o.verdict is Verdict.SUCCEEDED}
    failed = {o.hook_id for o in outcomes if o.verdict is Verdict.RETRY} - succeeded
    gone = {o.hook_id for o in outcomes if o.verdict is Verdict.GONE}
    if succeeded:
        session.execute(
            update(Hook).where(Hook.id.in_(succeeded)).values(last_success_at=now, failing_since=None),
            execution_options={"synchronize_session": False},
        )
    if failed:
        session.execute(
            update(Hook).where(Hook.id.in_(failed), Hook.failing_since.is_(None)).values(failing_since=now),
            execution_options={"synchronize_session": False},
        )
    if gone:
        end_hooks(session, gone, GONE_REASON, now)


def end_hooks(session: Session, hook_ids: Iterable[str], reason: str, now: datetime) -> None:
    """Disable hooks with a reason and cancel their pending deliveries (caller commits)."""
    ids = list(hook_ids)
    session.execute(
        update(Hook)
        .where(Hook.id.in_(ids), Hook.status.in_(("active", "paused")))
        .values(status="disabled", disabled_reason=reason, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Delivery)
        .where(Delivery.hook_id.in_(ids), Delivery.status == "pending")
        .values(status="cancelled", next_attempt_at=None, lease_owner=None, lease_expires_at=None, last_error=reason),
        execution_options={"synchronize_session": False},
    )


def release(session: Session, owner: str, delivery_ids: Sequence[str]) -> None:
    """Give back leases without an attempt (shutdown): the deliveries are due again at once."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(delivery_ids)), Delivery.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None),
            execution_options={"synchronize_session": False},
        )
    session.commit()
