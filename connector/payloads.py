"""The payload a subscriber receives: the object's own fields plus the envelope (DESIGN.md §3)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from . import catalog


class EventLike(Protocol):
    id: str
    object: str
    event: str
    role: int
    occurred_at: datetime
    data: dict[str, Any]


def is_attached_form(obj: str, data: dict[str, Any]) -> bool:
    """A form with a booking id belongs to that booking, not to the form triggers."""
    return obj == "form" and data.get("reservation_process_id") not in (None, "", 0)


def build(event: EventLike, trigger: str) -> dict[str, Any]:
    """One payload, the same in a push, a sample and a poll."""
    data = event.data
    if is_attached_form(event.object, data):
        body: dict[str, Any] = {"id": data["reservation_process_id"], "form": data}
        event_value = "edit"
    else:
        body = dict(data)
        event_value = event.event
        if "role" in body:  # the object's own role must not hide who caused the event
            body["user_role"] = body.pop("role")
    if "status" in body and "status_message" not in body:
        label = catalog.status_message(body["status"])
        if label is not None:
            body["status_message"] = label.en
    body.update(
        trigger=trigger,
        event=event_value,
        role=event.role,
        event_id=event.id,
        occurred_at=iso(event.occurred_at),
    )
    return body


def iso(moment: datetime) -> str:
    """UTC, second precision or finer, with a Z: what Zapier and Make parse without help."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # made once: json.dumps makes one per call


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON, UTF-8, non-ASCII kept as is."""
    return _ENCODER.encode(payload).encode()


def route(obj: str, event: str, data: dict[str, Any]) -> tuple[str, ...]:
    """The triggers an event reaches; a form attached to a booking reaches the booking's."""
    if is_attached_form(obj, data):
        return ("changed_appointment",)
    return catalog.triggers_for(obj, event)
