"""API-key authentication for /api/v1: Bearer, X-API-Key, or HTTP Basic (account name, key)."""

from __future__ import annotations

from flask import Flask, g, request
from flask_smorest import abort

from ..services import accounts
from .session import database, db_session, raw_connection

PUBLIC_PREFIX = "/api/v1"


def _credentials() -> tuple[str, str | None] | None:
    """(key, account name or None) from whichever header the caller used."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip(), None
    if request.headers.get("X-API-Key"):
        return request.headers["X-API-Key"].strip(), None
    basic = request.authorization
    if basic is not None and basic.type == "basic" and basic.password:
        return basic.password, basic.username or None
    return None


def current_account() -> accounts.AccountView:
    return g.account


def _authenticate() -> None:
    if not request.path.startswith(PUBLIC_PREFIX) or request.url_rule is None or request.method == "OPTIONS":
        return  # unknown routes answer 404, health and docs need no key
    creds = _credentials()
    headers = {"WWW-Authenticate": 'Bearer realm="connector", Basic realm="connector"'}
    if creds is None:
        abort(
            401,
            message="missing API key: send 'Authorization: Bearer KEY', 'X-API-Key: KEY' or HTTP Basic (account name, key)",
            headers=headers,
        )
    account = accounts.authenticate(raw_connection() if database().fast_path else db_session(), *creds)
    if account is None:
        abort(401, message="invalid API key", headers=headers)
    g.account = account


def init_auth(app: Flask) -> None:
    app.before_request(_authenticate)
