"""The application factory: config, then the database (migrated if embedded), then the API and the CLI."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from . import config, credentials
from .db import Database


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Config, then the database (migrated if embedded), then the API and the CLI."""
    app = Flask(__name__, instance_relative_config=True)
    # Answers keep the objects' own key order and their Japanese as it is (UTF-8, not \uXXXX).
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    config.load(app, test_config)
    credentials.init(app.config["CREDENTIALS_KEY"], app.instance_path)

    database = Database(app.config["DATABASE_URL"])
    app.extensions["connector.db"] = database
    if app.config["AUTO_MIGRATE"]:
        from .migrate import upgrade

        upgrade(database.engine)

    from .api import init_api
    from .api.session import init_session
    from .cli import init_cli
    from .ops import init_ops

    init_session(app)
    init_api(app)
    init_cli(app)
    init_ops(app)
    from .api.events.fast import FastIngest

    app.wsgi_app = FastIngest(app, app.wsgi_app)  # type: ignore[method-assign]
    _start_dispatching(app)
    return app


def _start_dispatching(app: Flask) -> None:
    """Deliver from this process when CONNECTOR_DISPATCHER is on.

    Under a WSGI server the dispatcher starts with the app. Flask commands start
    their own (`worker`, `demo`); `flask run` starts it on the first request.
    """
    if not app.config["DISPATCHER"] or app.testing:
        return
    from . import background

    if click.get_current_context(silent=True) is None:
        background.start(app)
        return

    @app.before_request
    def _start_on_first_request() -> None:
        background.start(app)
