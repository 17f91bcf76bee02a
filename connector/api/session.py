"""One database session per request, closed when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ..db import Database
from ..rawsql import RawConnection


def database() -> Database:
    return current_app.extensions["connector.db"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def raw_connection() -> RawConnection:
    """One pooled DB-API connection per request, for the SQLite hot paths (auth, ingest)."""
    if "raw_connection" not in g:
        engine = database().engine
        g.raw_connection = RawConnection(engine.raw_connection(), engine.dialect)
    return g.raw_connection


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    raw = g.pop("raw_connection", None)
    if raw is not None:
        raw.dbapi.close()  # back to the pool, which rolls back anything left open


def init_session(app: Flask) -> None:
    app.teardown_appcontext(_close)
