"""`POST /api/v1/events` (and `/batch`) on SQLite in plain WSGI: the ingest hot path.

Measured on this project's 2-core machines, Flask's request machinery (request and app
contexts, routing, flask-smorest's and webargs' wrappers, before/teardown hooks) costs
more than the whole of an event's work on SQLite (key check, routing, three inserts,
commit). So the common request — a Bearer or X-API-Key key, a JSON body that is a
plainly valid event or batch (see `schemas.load_plain`), no Idempotency-Key — is taken
here, before Flask, through the very same steps as the Flask view
(`ingest.store_plain`, `ingest.finish`). Anything else, and anything that goes wrong before the commit
(an unknown key, a body that needs the schema, a locked database), goes on to Flask
untouched, which answers it as it always does: errors keep one shape and one place.
The test suite runs through this path (its client goes through `wsgi_app`), and a
test checks both paths answer and store the same. README: "Performance".
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from ... import background
from ...rawsql import RawConnection
from ...services import accounts, publish
from . import ingest
from .schemas import load_plain, load_plain_many

PATHS = {"/api/v1/events": False, "/api/v1/events/batch": True}  # path → batch


class FastIngest:
    """WSGI middleware in front of the Flask app (`app.wsgi_app`)."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.database = app.extensions["connector.db"]
        self.config = app.config  # read per request: limits may change while the app runs (tests)
        # Rate limits and `flask run`'s start-on-first-request live in Flask's hooks: with
        # either in play, every request takes the Flask path.
        self.starts_late = bool(app.config["DISPATCHER"]) and not app.testing
        self.enabled = self.database.fast_path and "connector.rate_limits" not in app.extensions

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        batch = PATHS.get(environ.get("PATH_INFO", ""))
        if batch is not None and self.enabled and environ.get("REQUEST_METHOD") == "POST":
            body = self._answer(environ, batch)
            if body is not None:
                start_response("202 ACCEPTED", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ: dict[str, Any], batch: bool) -> bytes | None:
        """The answer's bytes once stored and committed; None: Flask takes the request."""
        if "HTTP_IDEMPOTENCY_KEY" in environ or environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/json":
            return None
        dispatcher = background.local_dispatcher(self.app)
        if self.starts_late and dispatcher is None:
            return None
        key = _key(environ)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if key is None or not 0 < length <= (self.config["MAX_CONTENT_LENGTH"] or 0):
            return None
        data = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(data)  # whatever happens next, Flask can read it again
        try:
            body = json.loads(data)
        except ValueError:
            return None
        if batch:
            loaded = load_plain_many(body)
        else:
            one = load_plain(body)
            loaded = [one] if one is not None else None
        if not loaded or len(loaded) > self.config["MAX_BATCH_EVENTS"]:
            return None
        events = ingest.new_events(loaded)
        if publish.needs_session(events):
            return None
        engine = self.database.engine
        raw = RawConnection(engine.raw_connection(), engine.dialect)
        try:
            account = accounts.authenticate(raw, key)
            if account is None:
                return None
            try:
                stored = ingest.store_plain(raw, self.database.writer(), account.id, events, batch, dispatcher)
            except Exception:  # rolled back: nothing stored; Flask answers it (503, say)
                return None
        finally:
            raw.dbapi.close()
        return ingest.finish(dispatcher, stored)


def _key(environ: dict[str, Any]) -> str | None:
    """The key as the API reads it (api/auth.py): Bearer first, then X-API-Key; Basic goes to Flask."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if environ.get("HTTP_X_API_KEY"):
        return environ["HTTP_X_API_KEY"].strip()
    return None
