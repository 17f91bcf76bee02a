"""Subscriptions (REST hooks): subscribe, list, read, change, unsubscribe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from .. import catalog, filters
from ..delivery.guard import TargetBlocked, TargetGuard
from ..delivery.signing import new_secret
from ..ids import new_id
from ..models import Hook
from . import smtp_destinations
from .errors import Conflict, Invalid, NotFound

# What a subscriber may set with PATCH; "disabled" is the connector's to set.
SETTABLE_STATUSES = ("active", "paused")


@dataclass(frozen=True)
class HookLimits:
    max_filter_conditions: int = 50
    max_target_url_length: int = 2048
    max_hooks_per_account: int = 1000
    max_filter_depth: int = 8
    max_filter_values: int = 100
    max_filter_bytes: int = 16384
    guard: TargetGuard | None = None  # the SSRF guard; None leaves targets unrestricted
    resolve_timeout: float = 2.0  # seconds the guard waits for DNS at subscribe

    def filter_problems(self, given: Any) -> dict[str, str]:
        return filters.validate(
            given,
            self.max_filter_conditions,
            max_depth=self.max_filter_depth,
            max_values=self.max_filter_values,
            max_bytes=self.max_filter_bytes,
        )


def check_target_url(url: str, limits: HookLimits) -> None:
    if len(url) > limits.max_target_url_length:
        most = limits.max_target_url_length
        raise Invalid("target_url is too long", {"target_url": f"at most {most} characters (CONNECTOR_MAX_TARGET_URL_LENGTH)"})
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("target_url is not an absolute http(s) URL", {"target_url": "must be an absolute http:// or https:// URL"})
    if limits.guard is not None:
        try:
            limits.guard.check_target(url, limits.resolve_timeout)
        except TargetBlocked as exc:
            raise Invalid(f"target_url is not allowed: {exc}", {"target_url": str(exc)}) from None


def check_smtp_host(host: str, port: int, limits: HookLimits) -> None:
    """An SMTP server is a target too: the same address policy (the allow-list lets an inside relay through)."""
    if limits.guard is not None:
        try:
            limits.guard.check_host(host, port, limits.resolve_timeout)
        except TargetBlocked as exc:
            raise Invalid(f"smtp.host is not allowed: {exc}", {"smtp.host": str(exc)}) from None


def _check_trigger(trigger: str) -> None:
    if trigger not in catalog.TRIGGERS:
        raise Invalid(f"unknown trigger {trigger!r}", {"trigger": f"use one of {', '.join(catalog.TRIGGERS)}"})


def _combined_filters(trigger: str, given: Any, inputs: dict[str, Any] | None, limits: HookLimits) -> dict[str, Any]:
    """The filter object from `filters` and/or the catalog's `filter_inputs`, validated."""
    combined = {} if given is None else given
    errors = limits.filter_problems(combined)
    if inputs:
        from_inputs, input_errors = filters.from_inputs(trigger, inputs)
        errors.update(input_errors)
        if not errors:
            combined = {**combined, **from_inputs}
            errors = limits.filter_problems(combined)
    if errors:
        raise Invalid("invalid filters", errors)
    return combined


def create_hook(
    session: Session,
    account_id: int,
    *,
    trigger: str,
    now: datetime,
    target_url: str | None = None,
    filters: Any = None,
    filter_inputs: dict[str, Any] | None = None,
    limits: HookLimits = HookLimits(),
    smtp: dict[str, Any] | None = None,
) -> Hook:
    _check_trigger(trigger)
    server = smtp_destinations.destination(trigger, target_url, smtp)  # None: a URL hook
    if server is None:
        check_target_url(target_url, limits)
    else:
        check_smtp_host(server.host, server.port, limits)
        target_url = smtp_destinations.url_of(server)
    combined = _combined_filters(trigger, filters, filter_inputs, limits)
    _check_room(session, account_id, limits.max_hooks_per_account)
    hook = Hook(
        id=new_id("hook"),
        account_id=account_id,
        trigger=trigger,
        target_url=target_url,
        filters=combined,
        status="active",
        secret=new_secret(),
        created_at=now,
        updated_at=now,
    )
    hook.smtp = server
    session.add(hook)
    session.commit()
    return hook


def _check_room(session: Session, account_id: int, most: int) -> None:
    """Refuse a new hook when the account has `most` already (deleted ones do not count)."""
    count = session.scalar(select(func.count()).select_from(Hook).where(Hook.account_id == account_id, Hook.status != "deleted"))
    if count >= most:
        raise Conflict(
            f"the account has {count} hooks, the most allowed (CONNECTOR_MAX_HOOKS_PER_ACCOUNT is {most}): delete one first",
            {"hooks": f"at most {most} per account"},
        )


def hooks_query(account_id: int, trigger: str | None = None, status: str | None = None) -> Select[tuple[Hook]]:
    """The account's hooks (never deleted ones), oldest first, for a paginated list."""
    query = select(Hook).where(Hook.account_id == account_id, Hook.status != "deleted")
    if trigger:
        query = query.where(Hook.trigger == trigger)
    if status:
        query = query.where(Hook.status == status)
    return query.order_by(Hook.created_at, Hook.id).options(selectinload(Hook.smtp))  # one query for a page's SMTP servers


def _own_hook(session: Session, account_id: int, hook_id: str) -> Hook | None:
    return session.scalar(select(Hook).where(Hook.id == hook_id, Hook.account_id == account_id))


def get_hook(session: Session, account_id: int, hook_id: str) -> Hook:
    """One of the account's hooks; another account's id is as unknown as a made-up one."""
    hook = _own_hook(session, account_id, hook_id)
    if hook is None or hook.status == "deleted":
        raise NotFound(f"no hook {hook_id!r}")
    return hook


def update_hook(
    session: Session,
    account_id: int,
    hook_id: str,
    changes: dict[str, Any],
    now: datetime,
    limits: HookLimits = HookLimits(),
) -> Hook:
    """Change target, filters or status; `status: active` re-enables a disabled hook."""
    hook = get_hook(session, account_id, hook_id)
    server = hook.smtp
    if changes.get("smtp") is not None:
        server = smtp_destinations.destination(hook.trigger, changes.get("target_url"), changes["smtp"], hook.smtp)
        check_smtp_host(server.host, server.port, limits)
    elif "target_url" in changes:
        check_target_url(changes["target_url"], limits)
        server = None
    if "filters" in changes or "filter_inputs" in changes:
        new_filters = _combined_filters(hook.trigger, changes.get("filters", hook.filters), changes.get("filter_inputs"), limits)
    else:
        new_filters = hook.filters
    status = changes.get("status", hook.status)
    if status != hook.status and status not in SETTABLE_STATUSES:
        raise Invalid(f"status {status!r} cannot be set", {"status": f"use one of {', '.join(SETTABLE_STATUSES)}"})
    hook.target_url = changes.get("target_url", hook.target_url)
    hook.smtp = server
    if server is not None:
        hook.target_url = smtp_destinations.url_of(server)
    hook.filters = new_filters
    if status != hook.status:
        hook.status = status
        hook.disabled_reason = None
    hook.updated_at = now
    session.commit()
    return hook


def delete_hook(session: Session, account_id: int, hook_id: str, now: datetime) -> None:
    """Unsubscribe. Deleting again is fine; another account's hook is not found."""
    hook = _own_hook(session, account_id, hook_id)
    if hook is None:
        raise NotFound(f"no hook {hook_id!r}")
    if hook.status != "deleted":
        hook.status = "deleted"
        hook.updated_at = now
        session.commit()


def delete_hooks_by_url(session: Session, account_id: int, target_url: str, now: datetime) -> int:
    """Unsubscribe every hook of the account on that target URL (Make's detach); how many went."""
    result = session.execute(
        update(Hook)
        .where(Hook.account_id == account_id, Hook.target_url == target_url, Hook.status != "deleted")
        .values(status="deleted", updated_at=now)
    )
    session.commit()
    return result.rowcount
