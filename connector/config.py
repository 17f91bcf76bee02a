"""Settings: defaults, then CONNECTOR_* environment variables, then a test mapping."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .db import check_url
from .delivery.guard import TargetGuard

DEFAULTS: dict[str, Any] = {
    # None means "a SQLite file in the instance folder".
    "DATABASE_URL": None,
    # Migrate the database at start (the embedded SQLite default); a server database runs `db upgrade`.
    "AUTO_MIGRATE": None,
    "DISPATCHER": "on",
    "TARGET_ALLOWLIST": "",
    "RETRY_SCHEDULE": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FILTER_CONDITIONS": 50,
    "MAX_TARGET_URL_LENGTH": 2048,
    "SAMPLES_MAX": 25,
    "MAX_BATCH_EVENTS": 1000,
    # Delivery
    "RETRY_JITTER": 0.1,
    "DELIVERY_TIMEOUT": 10.0,
    "MAX_RESPONSE_BYTES": 4096,
    "PER_HOST_CONCURRENCY": 16,
    "TOTAL_CONCURRENCY": 64,
    "LEASE_SECONDS": 120,
    "POLL_INTERVAL": 1.0,
    "DISABLE_AFTER_SECONDS": 5 * 24 * 3600,
    "SECRET_GRACE_SECONDS": 24 * 3600,
    "RETENTION_DAYS": 30,
    "HOUSEKEEPING_INTERVAL": 60,
    "STOP_TIMEOUT": 10,
    # Reminders: how often due ones are looked for, and how late one may still fire (else: skipped).
    "REMINDER_INTERVAL": 15,
    "REMINDER_MAX_LATENESS": 3600,
    # Encrypts stored credentials (SMTP passwords); None: a key generated into the instance folder.
    "CREDENTIALS_KEY": None,
    # Security and limits (README: "Security and limits")
    "TARGET_PORTS": "80,443,1024-65535",
    "TARGET_RESOLVE_TIMEOUT": 2.0,
    "MAX_HOOKS_PER_ACCOUNT": 1000,
    "MAX_FILTER_DEPTH": 8,
    "MAX_FILTER_VALUES": 100,
    "MAX_FILTER_BYTES": 16384,
    "RATE_LIMIT_INGEST": "",
    "RATE_LIMIT_API": "",
    # Dashboard, metrics and logs
    "SECRET_KEY": None,  # signs dashboard sessions; None: a random key kept in the instance folder
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_PATH": "/dashboard",
    "DASHBOARD_PAGE_SIZE": 50,
    "METRICS_TOKEN": "",  # when set, /metrics wants "Authorization: Bearer TOKEN"
    "LOG_FORMAT": "text",  # or "json": one JSON object per line, one line per delivery attempt
    "LOG_LEVEL": "INFO",
}

# flask-smorest's OpenAPI settings: these are the project's own, not the operator's.
OPENAPI: dict[str, Any] = {
    "API_TITLE": "Connector",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": (
                "The webhook layer of an appointment-scheduling platform: REST-hook subscriptions, "
                "sample objects, field definitions and polling for Zapier, Make and custom systems."
            )
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "basic": {"type": "http", "scheme": "basic"},
            }
        },
        "security": [{"bearer": []}, {"apiKey": []}, {"basic": []}],
    },
}

TRUE = {"1", "true", "yes", "on"}


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config in the documented order and derive what depends on other settings."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(OPENAPI)
    app.config.from_prefixed_env("CONNECTOR")
    if test_config:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "connector.sqlite")
    check_url(app.config["DATABASE_URL"])  # a URL the connector cannot run on stops the start, named
    if app.config["AUTO_MIGRATE"] is None:
        app.config["AUTO_MIGRATE"] = app.config["DATABASE_URL"].startswith("sqlite")
    app.config["AUTO_MIGRATE"] = flag(app.config["AUTO_MIGRATE"])
    app.config["DISPATCHER"] = flag(app.config["DISPATCHER"])
    TargetGuard.from_config(app.config)  # a bad allow-list or port list stops the start, named


def flag(value: Any) -> bool:
    """A boolean setting given as a bool or as on/off, true/false, 1/0 from the environment."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE
