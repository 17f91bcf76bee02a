"""The dashboard's session and CSRF protection.

Sign-in takes an account API key once; the session (Flask's signed cookie: HttpOnly,
SameSite=Lax, scoped to /dashboard) then holds only the key's row id, and every request
checks that key is still not revoked. Every POST carries the session's CSRF token. The
API under /api/v1 uses no cookie and is not touched by any of this.
"""

from __future__ import annotations

import hmac
import os
import secrets

from flask import Flask, Request, abort, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from ..services import accounts

CSRF_FIELD = "csrf_token"
SECRET_KEY_FILE = "secret_key"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """A POST without the session's token is refused (400) before any view runs."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


def start_session(key_id: int, account_id: int) -> None:
    """A fresh session for a signed-in key (nothing from before sign-in survives, the token neither)."""
    lang = session.get("lang")
    session.clear()
    session.update(key_id=key_id, account_id=account_id, csrf=secrets.token_urlsafe(32))
    if lang:
        session["lang"] = lang


def end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def current_account() -> accounts.AccountView:
    return g.dashboard_account


class DashboardSessions(SecureCookieSessionInterface):
    """The signed cookie session, opened only under the dashboard's path: an API request
    (ingest above all) neither reads a cookie nor builds a signer, saving ~50 µs each."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(self.get_cookie_path(app)):
            return None  # Flask then uses a null session, never saved
        return super().open_session(app, request)


def ensure_secret_key(app: Flask) -> None:
    """Sessions need CONNECTOR_SECRET_KEY; without it, a random key kept in the instance folder
    (shared by the processes of one machine; set the variable when several machines serve)."""
    if app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = str(app.config["SECRET_KEY"])  # the environment's "12345" arrives as a number
        return
    path = os.path.join(app.instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        # Written aside, then linked into place: a process reading it never sees half a key,
        # and when two processes start at once the first link wins.
        scratch = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(scratch)
    with open(path, encoding="ascii") as f:
        app.config["SECRET_KEY"] = f.read().strip()
