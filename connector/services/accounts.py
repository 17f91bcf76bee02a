"""Accounts and their API keys: a key is shown once and kept only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import rawsql
from ..models import Account, ApiKey
from .errors import Conflict, Invalid, NotFound

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_KEY = re.compile(r"^ck_([a-z0-9]{12})_([A-Za-z0-9_-]{20,100})$")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_account(session: Session, name: str, now: datetime) -> tuple[Account, str]:
    """A new account and its first API key (the key in clear, to be shown once)."""
    if not NAME.match(name):
        raise Invalid("invalid account name", {"name": "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"})
    account = Account(name=name, created_at=now)
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"an account named {name!r} exists already") from None
    _, key = _new_key(session, account, now, "first key")
    session.commit()
    return account, key


def _new_key(session: Session, account: Account, now: datetime, label: str) -> tuple[ApiKey, str]:
    prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    key = f"ck_{prefix}_{secrets.token_urlsafe(30)}"
    row = ApiKey(account_id=account.id, prefix=prefix, key_hash=_hash(key), label=label, created_at=now)
    session.add(row)
    session.flush()
    return row, key


def get_account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(f"no account named {name!r}")
    return account


def issue_key(session: Session, account_name: str, now: datetime, label: str = "") -> tuple[ApiKey, str]:
    """Another key for an account; returns the row and the key in clear."""
    row, key = _new_key(session, get_account(session, account_name), now, label[:100])
    session.commit()
    return row, key


def list_keys(session: Session, account_name: str) -> list[ApiKey]:
    account = get_account(session, account_name)
    return list(session.scalars(select(ApiKey).where(ApiKey.account_id == account.id).order_by(ApiKey.id)))


def revoke_key(session: Session, account_name: str, prefix: str, now: datetime) -> ApiKey:
    """Revoke one key of an account, named by its prefix (as `list_keys` shows it)."""
    account = get_account(session, account_name)
    prefix = prefix.removeprefix("ck_").split("_")[0]
    row = session.scalar(select(ApiKey).where(ApiKey.account_id == account.id, ApiKey.prefix == prefix))
    if row is None:
        raise NotFound(f"account {account_name!r} has no key {prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.commit()
    return row


# One query on every API request, built once: the key's hash and its account together.
_KEY_AND_ACCOUNT = (
    select(ApiKey.__table__.c.key_hash, ApiKey.__table__.c.revoked_at, *Account.__table__.c["id", "name", "created_at"])
    .join(Account.__table__, Account.__table__.c.id == ApiKey.__table__.c.account_id)
    .where(ApiKey.__table__.c.prefix == bindparam("prefix"))
)


_RAW_KEY_AND_ACCOUNT = rawsql.RawQuery(
    "SELECT k.key_hash, k.revoked_at, a.id, a.name, a.created_at FROM api_keys k"
    " JOIN accounts a ON a.id = k.account_id WHERE k.prefix = ?",
    _KEY_AND_ACCOUNT.selected_columns,
)


@dataclass(frozen=True, slots=True)
class _KeyRow:
    key_hash: str
    revoked_at: datetime | None
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class AccountView:
    """The account a request acts for (what /me shows)."""

    id: int
    name: str
    created_at: datetime
    key_prefix: str = ""  # the public prefix of the key used (what rate limits count by)


def authenticate(session: Session | rawsql.RawConnection, key: str, account_name: str | None = None) -> AccountView | None:
    """The account a key belongs to, or None: unknown, malformed, revoked, or not that account's."""
    match = _KEY.match(key)
    if not match:
        return None
    raw = rawsql.RawConnection.of(session)
    if raw is not None:
        rows = _RAW_KEY_AND_ACCOUNT.execute(raw, [match.group(1)])
        row = _KeyRow(*rows[0]) if rows else None
    else:
        row = session.connection().execute(_KEY_AND_ACCOUNT, {"prefix": match.group(1)}).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    if account_name is not None and row.name != account_name:
        return None
    return AccountView(row.id, row.name, row.created_at, match.group(1))
