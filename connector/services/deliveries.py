"""The delivery log, and redelivery: retry one delivery, recover a hook's failures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from .. import payloads
from ..delivery import smtp
from ..delivery.guard import TargetGuard
from ..delivery.signing import new_secret, webhook_headers
from ..delivery.store import hook_secrets
from ..delivery.transport import Outgoing, send_sync
from ..delivery.wakeups import notify_due
from ..ids import new_id
from ..models import Delivery, Event, Hook
from .errors import Conflict, NotFound
from .hooks import get_hook
from .samples import samples

FINAL_FAILURES = ("failed", "cancelled")


def deliveries_query(
    account_id: int, hook_id: str | None = None, event_id: str | None = None, status: str | None = None
) -> Select[tuple[Delivery]]:
    """The account's deliveries, newest first, optionally narrowed."""
    query = select(Delivery).where(Delivery.account_id == account_id).options(selectinload(Delivery.event))
    if hook_id:
        query = query.where(Delivery.hook_id == hook_id)
    if event_id:
        query = query.join(Event, Event.seq == Delivery.event_seq).where(Event.id == event_id)
    if status:
        query = query.where(Delivery.status == status)
    return query.order_by(Delivery.created_at.desc(), Delivery.id.desc())


def get_delivery(session: Session, account_id: int, delivery_id: str) -> Delivery:
    delivery = session.scalar(
        select(Delivery)
        .where(Delivery.id == delivery_id, Delivery.account_id == account_id)
        .options(selectinload(Delivery.attempt_log), selectinload(Delivery.event))
    )
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    return delivery


def payload_of(delivery: Delivery) -> dict[str, Any]:
    return payloads.build(delivery.event, delivery.trigger)


def _require_active(hook: Hook) -> None:
    if hook.status != "active":
        raise Conflict(f"hook {hook.id} is {hook.status}: set its status to active first")


def retry_delivery(session: Session, account_id: int, delivery_id: str, now: datetime) -> Delivery:
    """Attempt a delivery again now, with a fresh retry schedule (any final status)."""
    delivery = get_delivery(session, account_id, delivery_id)
    _require_active(session.get(Hook, delivery.hook_id))
    if delivery.status == "pending" and delivery.lease_expires_at and delivery.lease_expires_at > now:
        raise Conflict(f"delivery {delivery_id} is being attempted right now")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.lease_owner = delivery.lease_expires_at = None
    notify_due(session)
    session.commit()
    return delivery


def recover_hook(session: Session, account_id: int, hook_id: str, since: datetime, now: datetime) -> int:
    """Attempt again every failed or cancelled delivery of a hook created since `since`; how many."""
    hook = get_hook(session, account_id, hook_id)
    _require_active(hook)
    result = session.execute(
        update(Delivery)
        .where(Delivery.hook_id == hook.id, Delivery.status.in_(FINAL_FAILURES), Delivery.created_at >= since)
        .values(status="pending", attempts=0, next_attempt_at=now, lease_owner=None, lease_expires_at=None),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        notify_due(session)
    session.commit()
    return result.rowcount


def rotate_secret(session: Session, account_id: int, hook_id: str, now: datetime, grace: timedelta) -> Hook:
    """A new signing secret; the old one keeps signing (a second signature) for `grace`."""
    hook = get_hook(session, account_id, hook_id)
    hook.previous_secret = hook.secret
    hook.previous_secret_expires_at = now + grace
    hook.secret = new_secret()
    hook.updated_at = now
    session.commit()
    return hook


def send_test(
    session: Session,
    account_id: int,
    hook_id: str,
    now: datetime,
    timeout: float,
    cap: int,
    guard: TargetGuard | None = None,
) -> dict[str, Any]:
    """Sign and send the trigger's newest sample to the hook's target now; the attempt, not stored."""
    hook = get_hook(session, account_id, hook_id)
    payload = samples(session, account_id, hook.trigger, 1)[0]
    body = payloads.encode(payload)
    message_id = new_id("msg")
    secrets = hook_secrets(hook.secret, hook.previous_secret, hook.previous_secret_expires_at, now)
    if hook.smtp is not None:  # an e-mail hook with its own mail server: the sample goes out as an e-mail
        result = smtp.send_to(hook.smtp, payload, timeout, cap, guard)
    else:
        headers = webhook_headers(message_id, int(now.timestamp()), body, secrets)
        result = send_sync(Outgoing(hook.target_url, body, headers), timeout=timeout, max_response_bytes=cap, guard=guard)
    return {"webhook_id": message_id, "payload": payload, "attempt": result}
