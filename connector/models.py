"""The connector's tables, as typed SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .db import Base

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="account")


class ApiKey(Base):
    """An account's API key: only its prefix (to find it) and a SHA-256 hash are kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(back_populates="keys")


class Hook(Base):
    """A subscription: one target URL on one trigger of one account, with its filters and secret."""

    __tablename__ = "hooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(40))
    target_url: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, paused, disabled
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(80))
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # For disabling a hook that keeps failing: the first failure since the last success.
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_hooks_account_trigger", "account_id", "trigger", "status"),
        Index("ix_hooks_account_target", "account_id", "target_url"),
    )


class Event(Base):
    """One published event. `seq` orders events; `id` is what subscribers see."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    object: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(20))
    role: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Plain JSON (not JSONB) on every database: the object's key order survives, so every
    # attempt of a delivery sends the same bytes.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    triggers: Mapped[list[EventTrigger]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


class EventTrigger(Base):
    """Which triggers an event was routed to: the index behind samples and polling."""

    __tablename__ = "event_triggers"

    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq", ondelete="CASCADE"), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)

    event: Mapped[Event] = relationship(back_populates="triggers")

    # WITHOUT ROWID on SQLite: the primary key is the table, one B-tree less to write per event.
    __table_args__ = (
        Index("ix_event_triggers_account", "account_id", "trigger", "event_seq"),
        {"sqlite_with_rowid": False},
    )


class Delivery(Base):
    """One event for one hook: attempted until it succeeds, fails for good, or is cancelled.

    Its `id` is the Standard Webhooks `webhook-id`, the same on every retry. A
    dispatcher holds a delivery while `lease_expires_at` is in the future; a
    dispatcher that dies leaves the lease to run out and another takes over.
    """

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    hook_id: Mapped[str] = mapped_column(ForeignKey("hooks.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # pending, succeeded, failed, cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    hook: Mapped[Hook] = relationship()
    event: Mapped[Event] = relationship()
    attempt_log: Mapped[list[Attempt]] = relationship(
        back_populates="delivery", order_by="Attempt.id", cascade="all, delete-orphan", passive_deletes=True
    )

    # Every index is written on ingest: only those the claims, the log and purging need.
    # WITHOUT ROWID on SQLite: the primary key is the table.
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_account", "account_id", "created_at"),
        {"sqlite_with_rowid": False},
    )


class Attempt(Base):
    """One HTTP attempt of a delivery, as the delivery log shows it."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[str] = mapped_column(String(16))  # succeeded, retry, failed, gone

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")


class IdempotencyKey(Base):
    """The first answer to a publish request that carried an `Idempotency-Key` header."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SupersaasInbound(Base):
    """An account's secret inbound URL for SuperSaaS's own webhooks: only the token's SHA-256 is kept."""

    __tablename__ = "supersaas_inbound"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderRuleSet(Base):
    """An account's reminder and follow-up rules, and the time zone of bookings sent without one."""

    __tablename__ = "reminder_rule_sets"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderBooking(Base):
    """The latest known state of a booking, what its reminders are scheduled from and carry."""

    __tablename__ = "reminder_bookings"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)  # False once deleted or waitlisted
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # of the event that set this state
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reminder(Base):
    """One reminder or follow-up of a booking, due at a time: pending, then fired, skipped or cancelled."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    booking_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(20))  # reminder, follow_up
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending, fired, skipped, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(40))  # the published reminder event

    __table_args__ = (
        Index("ix_reminders_due", "status", "due_at"),
        Index("ux_reminders_slot", "account_id", "booking_id", "event", "offset_minutes", "due_at", unique=True),
    )


class SmtpDestination(Base):
    """An email_sent hook's own mail server: the connector sends the e-mail itself."""

    __tablename__ = "smtp_destinations"

    hook_id: Mapped[str] = mapped_column(ForeignKey("hooks.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    security: Mapped[str] = mapped_column(String(16))  # starttls, tls, none
    username: Mapped[str | None] = mapped_column(String(255))
    # Never returned by the API nor logged; see README "E-mail through your own server".
    password: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(320))


# Appended here so the Hook class above stays as it is: a hook's SMTP server, if it has one.
Hook.smtp = relationship(SmtpDestination, uselist=False, lazy="select", cascade="all, delete-orphan")


class ClusterJob(Base):
    """When a periodic job last ran, on any process: each tick runs once across the cluster."""

    __tablename__ = "cluster_jobs"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
