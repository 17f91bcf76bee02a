"""A delivery ready to send: what the dispatcher needs, without touching the database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Job:
    delivery_id: str  # also the webhook-id, the same on every retry
    hook_id: str
    url: str
    body: bytes
    secrets: tuple[str, ...]  # the hook's secret, and the previous one while in grace
    attempts: int  # attempts made before this one
