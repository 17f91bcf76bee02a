"""One database session per request, closed when the request ends."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ..db import Database


def database() -> Database:
    return current_app.extensions["connector.db"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_session(app: Flask) -> None:
    app.teardown_appcontext(_close)
