"""Ingest's steps shared by the Flask view and the WSGI fast path: answer, store, hand over, count."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ... import observe
from ...delivery.dispatcher import Dispatcher
from ...rawsql import RawConnection
from ...services import publish, utcnow


def lease_of(dispatcher: Dispatcher | None) -> publish.Lease | None:
    """New deliveries are stored already leased to this process's dispatcher, when it has one."""
    return publish.Lease(dispatcher.owner, dispatcher.settings.lease) if dispatcher is not None else None


def new_events(loaded: Sequence[dict[str, Any]]) -> list[publish.NewEvent]:
    return [publish.NewEvent(**{**e, "occurred_at": e.get("occurred_at") or utcnow()}) for e in loaded]


def answer(answers: list[dict[str, Any]], batch: bool) -> Any:
    """POST /events answers with its one event; /events/batch with all of them and the total."""
    if batch:
        return {"events": answers, "deliveries": sum(a["deliveries"] for a in answers)}
    return answers[0]


def responder(batch: bool) -> tuple[Callable[[list[dict[str, Any]]], Any], list[dict[str, Any]]]:
    """`make_response` for the publish services, and the list it keeps the answers in (for the
    metrics, counted once committed)."""
    answers: list[dict[str, Any]] = []

    def respond(stored: list[dict[str, Any]]) -> Any:
        answers[:] = stored
        return answer(stored, batch)

    return respond, answers


def encode(response: Any) -> bytes:
    # Answered as it is (the schemas document it): the answer is ours, a second dump adds nothing.
    return json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode()


def handed_over(dispatcher: Dispatcher | None, jobs: list, answers: list[dict[str, Any]]) -> None:
    """After the commit: the deliveries to this process's dispatcher, the events to the metrics."""
    if jobs and dispatcher is not None:
        dispatcher.submit(jobs)
    observe.events(answers)


@dataclass
class Stored:
    response: Any
    jobs: list
    answers: list[dict[str, Any]]


def store_plain(
    raw: RawConnection, writer: Any, account_id: int, events: list[publish.NewEvent], batch: bool, dispatcher: Dispatcher | None
) -> Stored:
    """The SQLite hot path (no Idempotency-Key, no reminders to schedule): stored and committed, or
    nothing stored if it raises."""
    respond, answers = responder(batch)
    lease = lease_of(dispatcher)
    response, jobs = publish.publish_on(raw, writer, account_id, events, utcnow(), make_response=respond, lease=lease)
    return Stored(response, jobs, answers)


def finish(dispatcher: Dispatcher | None, stored: Stored) -> bytes:
    """After the commit: hand over, count, and the answer's bytes."""
    handed_over(dispatcher, stored.jobs, stored.answers)
    return encode(stored.response)
