"""The operator's side of an app: JSON logs when configured, /metrics, the /dashboard."""

from __future__ import annotations

from flask import Flask


def init_ops(app: Flask) -> None:
    from .dashboard import init_dashboard
    from .logs import init_logging
    from .metrics import init_metrics

    init_logging(app)
    init_metrics(app)
    init_dashboard(app)
