"""What the API, the CLI and the workers do, as plain functions over a Session (no Flask)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware UTC: the one place the services' callers read the clock."""
    return datetime.now(UTC)
