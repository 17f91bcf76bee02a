"""The database: one engine per app, a session per request, SQLite tuned for WAL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no branch
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def write_lock(session: Session) -> AbstractContextManager[Any]:
    """Hold around a write transaction: serialises this process's SQLite writers (no-op elsewhere)."""
    return session.info.get("write_lock") or nullcontext()


class Database:
    """The engine and session factory of one app, kept in app.extensions['connector.db']."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # SQLite lets one writer in at a time and makes the others sleep and retry (1 ms, 2 ms, 5 ms …
        # up to 100 ms). Within a process, writers queue on this lock instead: no sleeping.
        info = {"write_lock": threading.Lock()} if url.startswith("sqlite") else {}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work outside a request (CLI, dispatcher, scheduler)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
