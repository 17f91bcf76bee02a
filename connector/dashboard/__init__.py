"""The operator dashboard under /dashboard: server-rendered pages in English and Japanese."""

from __future__ import annotations

from flask import Flask

from .security import DashboardSessions, ensure_secret_key


def init_dashboard(app: Flask) -> None:
    from .views import bp

    ensure_secret_key(app)
    app.session_interface = DashboardSessions()
    app.register_blueprint(bp)
