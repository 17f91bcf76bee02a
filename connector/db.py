"""The database: one engine per app, a session per request, SQLite tuned for WAL."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows: there the thread lock alone serialises a process's writers
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


FOREGROUND_CHECKPOINT_PAGES = 10000


def check_url(url: str) -> None:
    """Refuse, naming the problem, a database URL the connector cannot run on.

    SQLite must be a file in an existing folder (an in-memory database would be a different,
    empty one on every connection); server databases are PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"CONNECTOR_DATABASE_URL is not a database URL: {url!r}") from None
    name = parsed.get_backend_name()
    if name == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise ValueError(
                "CONNECTOR_DATABASE_URL: an in-memory SQLite database is not supported"
                " (every connection would see its own, empty one); give a file: sqlite:////path/connector.sqlite"
            )
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(f"CONNECTOR_DATABASE_URL: the folder of the SQLite file does not exist: {folder}")
    elif name != "postgresql":
        shown = parsed.render_as_string(hide_password=True)
        raise ValueError(f"CONNECTOR_DATABASE_URL: {shown} is not supported; use a SQLite file or PostgreSQL")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and foreign keys."""
    if not url.startswith("sqlite"):
        # A dead server fails a request within seconds (503) instead of hanging it; pooled
        # connections are checked before use, so the pool heals by itself when it returns.
        connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True)
    # A request may hold two connections (the raw one of the hot paths and a session's), and
    # SQLite connections are local and cheap: never make a thread wait for one.
    # hide_parameters: an error's text (logged) never carries a key hash, a secret or a payload.
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=10,
        max_overflow=-1,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no branch
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Checkpoints (copying the WAL back into the database, with an fsync) are run by the
        # scheduler every second, off the request path: a checkpoint inside a commit stalled
        # pushes for 100-400 ms. This is only the safety net for processes without one.
        cur.execute(f"PRAGMA wal_autocheckpoint={FOREGROUND_CHECKPOINT_PAGES}")
        cur.close()

    return engine


class SQLiteWriteLock:
    """One writer at a time across threads and processes, without SQLite's busy sleeping.

    SQLite lets one writer in and makes the others sleep and retry (1 ms, 2 ms, 5 ms …
    up to 100 ms at a time), which under load costs more than the writes. Writers queue
    here instead: on a thread lock within the process, then on an flock of a file beside
    the database across processes; the kernel wakes the next one at once.
    """

    def __init__(self, database_path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if database_path and fcntl is not None:
            self._fd = os.open(database_path + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_lock(session: Session) -> AbstractContextManager[Any]:
    """Hold around a write transaction: serialises SQLite writers (no-op on a server database)."""
    return session.info.get("write_lock") or nullcontext()


class Database:
    """The engine and session factory of one app, kept in app.extensions['connector.db']."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._lock = None
        if self.engine.dialect.name == "sqlite":
            path = self.engine.url.database
            self._lock = SQLiteWriteLock(path if path and path != ":memory:" else None)
        info = {"write_lock": self._lock} if self._lock else {}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a request (CLI, dispatcher, scheduler)."""
        with self.sessions() as session:
            yield session

    @property
    def fast_path(self) -> bool:
        """Whether request hot paths may run on the raw DB-API connection (SQLite)."""
        return self._lock is not None

    def writer(self) -> AbstractContextManager[Any]:
        """The write lock of this database (a no-op on a server database)."""
        return self._lock or nullcontext()

    def checkpoint(self) -> None:
        """Copy the SQLite WAL back into the database without blocking anyone (PASSIVE)."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._lock is not None:
            self._lock.close()
