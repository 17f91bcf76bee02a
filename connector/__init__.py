"""The connector: the webhook layer of an appointment-scheduling platform.

The package itself imports no Flask, so the delivery engine (connector.delivery)
can run without it; the web application is built by `create_app`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Config, then the database (migrated if embedded), then the API, the CLI and the dispatcher."""
    from .app import create_app as build

    return build(test_config)
