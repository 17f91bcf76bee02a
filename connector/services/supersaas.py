"""SuperSaaS compatibility: its hooks API (one-letter event codes) and its own webhook POSTs as events."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import catalog
from ..models import Account, Hook, SupersaasInbound
from . import hooks
from .accounts import AccountView
from .errors import Invalid

TOKEN_PREFIX = "sst_"
# What SuperSaaS's `parent_id` names for each object: a schedule, a form template; else the account.
PARENT_FIELDS = {"appointment": "schedule_id", "reminder": "schedule_id", "form": "super_form_id"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Inbound: SuperSaaS's own webhooks -------------------------------------------------------------


def issue_inbound_token(session: Session, account_id: int, now: datetime) -> str:
    """A new secret for the account's inbound URL (the previous one stops working); shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    row = session.get(SupersaasInbound, account_id)
    if row is None:
        session.add(SupersaasInbound(account_id=account_id, token_hash=_hash(token), created_at=now))
    else:
        row.token_hash, row.created_at = _hash(token), now
    session.commit()
    return token


def revoke_inbound_token(session: Session, account_id: int) -> None:
    row = session.get(SupersaasInbound, account_id)
    if row is not None:
        session.delete(row)
        session.commit()


def inbound_account(session: Session, token: str) -> AccountView | None:
    """The account an inbound token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    account = session.scalar(
        select(Account)
        .join(SupersaasInbound, SupersaasInbound.account_id == Account.id)
        .where(SupersaasInbound.token_hash == _hash(token))
    )
    return None if account is None else AccountView(account.id, account.name, account.created_at)


def _objects_for(event: str | None) -> list[str]:
    if event is None:
        return list(catalog.OBJECTS)
    return [obj for obj in catalog.OBJECTS if event in catalog.events_of(obj)]


def _own_fields(obj: str, others: list[str]) -> set[str]:
    """The catalog fields of an object that none of the other candidates has."""
    mine = {f.key for f in catalog.OBJECT_FIELDS[obj]}
    for other in others:
        if other != obj:
            mine -= {f.key for f in catalog.OBJECT_FIELDS[other]}
    return mine


def guess_object(event: str | None, data: dict[str, Any]) -> str:
    """Which object a SuperSaaS webhook body is: by its event, then by the fields only that object has."""
    candidates = _objects_for(event)
    if not candidates:
        raise Invalid(f"unknown event {event!r}", {"event": "not an event of any catalog object"})
    if len(candidates) == 1:
        return candidates[0]
    scores = {obj: len(_own_fields(obj, candidates) & data.keys()) for obj in candidates}
    best = max(scores.values())
    winners = [obj for obj, score in scores.items() if score == best]
    if best == 0 or len(winners) > 1:
        raise Invalid(
            "cannot tell which object this is",
            {"object": f"add ?object= to the URL: one of {', '.join(winners if best else candidates)}"},
        )
    return winners[0]


def inbound_event(body: Any, object_hint: str | None = None) -> dict[str, Any]:
    """A SuperSaaS webhook body (the object with `event`, `role`, maybe `trigger`) as a POST /events body.

    `role` is who caused the event; without one the system (7) did. An object with a single
    event (e-mail, purchase) needs no `event`.
    """
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", {"json": "a SuperSaaS webhook object"})
    data = dict(body)
    event = data.pop("event", None)
    role = data.pop("role", 7)
    trigger = data.pop("trigger", None)
    if object_hint is None and trigger in catalog.TRIGGERS:
        object_hint = catalog.TRIGGERS[trigger].object
    obj = object_hint or guess_object(event, data)
    if obj not in catalog.OBJECTS:
        raise Invalid(f"unknown object {obj!r}", {"object": f"use one of {', '.join(catalog.OBJECTS)}"})
    if event is None and len(catalog.events_of(obj)) == 1:
        event = catalog.events_of(obj)[0]
    if isinstance(role, str) and role.strip().lstrip("-").isdigit():
        role = int(role)
    return {"object": obj, "event": event, "role": role, "data": data}


# The hooks API: POST /api/hooks and DELETE /api/hooks ---------------------------------------------


def _parent_filter(trigger: str, parent_id: Any) -> dict[str, Any]:
    field = PARENT_FIELDS.get(catalog.TRIGGERS[trigger].object)
    if field is None or parent_id in (None, ""):
        return {}
    text = str(parent_id).strip()
    if not text.isdigit():
        raise Invalid("parent_id must be a number", {"parent_id": "the id of a schedule or form"})
    return {field: int(text)}


def subscribe(
    session: Session,
    account_id: int,
    *,
    event: str,
    target_url: str,
    parent_id: Any,
    now: datetime,
    limits: hooks.HookLimits,
) -> Hook:
    """SuperSaaS's subscribe: an event code (N, C, U, …) becomes the trigger, R/F an event filter too."""
    code = catalog.SUPERSAAS_CODES.get(event)
    if code is None:
        raise Invalid(f"unknown event code {event!r}", {"event": f"use one of {', '.join(catalog.SUPERSAAS_CODES)}"})
    filters = _parent_filter(code.trigger, parent_id)
    if code.event:
        filters["event"] = code.event
    return hooks.create_hook(
        session, account_id, trigger=code.trigger, target_url=target_url, filters=filters, now=now, limits=limits
    )


def unsubscribe(session: Session, account_id: int, hook_id: str, now: datetime) -> None:
    hooks.delete_hook(session, account_id, hook_id, now)
