"""The HTTP API: flask-smorest with one blueprint per resource, one JSON error shape for all."""

from __future__ import annotations

import sqlite3
from typing import Any

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, ServiceUnavailable, default_exceptions

from ..services.errors import ServiceError
from . import auth, limits


def _summary(errors: Any, where: str = "") -> list[str]:
    """Flatten nested validation errors into 'json.trigger: Must be one of ...' lines."""
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            lines += _summary(value, f"{where}.{key}" if where else str(key))
        return lines
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{where}: {' '.join(errors)}"]
    return [f"{where}: {errors}"]


#: What a database that cannot be reached (or stays locked) raises, through SQLAlchemy or the
#: raw SQLite hot path. Anything else that goes wrong stays a 500 and is logged as a bug.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sqlite3.OperationalError,
)
DATABASE_RETRY_AFTER = 5


class ConnectorApi(Api):
    """Every error, ours or the framework's, as {code, status, message, errors?}."""

    def _register_pagination_header(self) -> None:
        # X-Pagination carries JSON: documented as JSON content (OpenAPI 3), not as a `schema`,
        # which clients and validators read as the comma-separated "simple" style.
        self.spec.components.header(
            "PAGINATION",
            {"description": "Pagination metadata", "content": {"application/json": {"schema": PaginationMetadataSchema}}},
            lazy=True,
        )

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        payload, code, headers = super().handle_http_exception(error)
        if "message" not in payload:
            if "errors" in payload:
                payload["message"] = "invalid request: " + "; ".join(_summary(payload["errors"]))
            else:
                payload["message"] = error.description or error.name
        return payload, code, headers

    def handle_service_error(self, error: ServiceError):
        http_error = default_exceptions[error.status]()
        http_error.data = {"message": error.message}  # type: ignore[attr-defined]
        if error.errors:
            http_error.data["errors"] = error.errors  # type: ignore[attr-defined]
        return self.handle_http_exception(http_error)

    def handle_database_unavailable(self, error: Exception):
        """The database cannot be reached or is locked: 503, try again; the transaction was rolled back."""
        self._app.logger.warning("database unavailable: %s", str(error).splitlines()[0][:200] if str(error) else error)
        http_error = ServiceUnavailable()
        http_error.data = {  # type: ignore[attr-defined]
            "message": "database unavailable: nothing was stored, try again shortly",
            "headers": {"Retry-After": str(DATABASE_RETRY_AFTER)},
        }
        return self.handle_http_exception(http_error)

    def handle_unexpected(self, error: Exception):
        self._app.logger.exception("unhandled error")
        return self.handle_http_exception(default_exceptions[500]())


class ErrorResponsesPlugin(BasePlugin):
    """Document the errors every API operation can answer: 401 without a key, 413 for a big body."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_kw: Any) -> None:
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            if path and path.startswith(auth.PUBLIC_PREFIX):
                responses.setdefault("401", {"description": "Missing or invalid API key", **error})
                responses.setdefault("503", {"description": "Database unavailable: nothing was changed", **error})
                responses.setdefault("429", {"description": "Over the API key's rate limit, when one is set", **error})
            if method in ("post", "patch", "put"):
                responses.setdefault("413", {"description": "Request body over the size limit", **error})


def init_api(app: Flask) -> Api:
    from .deliveries.routes import blp as deliveries
    from .events.routes import blp as events
    from .health.routes import blp as health
    from .hooks.routes import blp as hooks
    from .me.routes import blp as me
    from .reminders.routes import blp as reminders
    from .supersaas.routes import blp as supersaas
    from .triggers.routes import blp as triggers

    api = ConnectorApi(app, spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})
    for blueprint in (me, triggers, hooks, events, deliveries, health, reminders):
        api.register_blueprint(blueprint)
    api.register_blueprint(supersaas)
    app.register_error_handler(ServiceError, api.handle_service_error)
    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, api.handle_database_unavailable)
    app.register_error_handler(Exception, api.handle_unexpected)
    auth.init_auth(app)
    limits.init_limits(app, api)  # after auth: rate limits count authenticated keys
    return api
