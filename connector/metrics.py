"""`/metrics` in Prometheus' text format.

Two sources in one answer:

- this process's counters and histogram (observe.py) — or, when the environment sets
  PROMETHEUS_MULTIPROC_DIR (several gunicorn or worker processes), every process's,
  merged by prometheus-client's multiprocess collector;
- gauges read from the database at scrape time (queue depth, the oldest due delivery's
  age, hooks by status), the same whichever process answers.

CONNECTOR_METRICS_TOKEN, when set, is required as `Authorization: Bearer TOKEN`.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from .db import Database
from .services import stats, utcnow

log = logging.getLogger(__name__)
EXTENSION = "connector.metrics"
# The classic text format (what generate_latest writes), understood by every Prometheus version.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseCollector(Collector):
    """Gauges computed from the connector's tables whenever Prometheus scrapes."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("connector_metrics_database_up", "Whether the gauges below could be read from the database")
        try:
            with self.database.session() as session:
                numbers = stats.queue_stats(session, utcnow())
        except SQLAlchemyError:
            log.exception("reading the queue for /metrics failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "connector_queue_depth",
            "Pending deliveries: due (waiting for a dispatcher), in_flight (leased), "
            "scheduled (a retry later), held (hook paused or disabled)",
            labels=["state"],
        )
        for state, count in numbers.depth.items():
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily(
            "connector_oldest_due_delivery_age_seconds",
            "How long the oldest due, unclaimed delivery of an active hook has been waiting (0 if none)",
            value=numbers.oldest_due_age_seconds,
        )
        yield GaugeMetricFamily(
            "connector_hooks_disabled",
            "Hooks the connector disabled (410 Gone, or failing for too long)",
            value=numbers.hooks["disabled"],
        )
        hooks = GaugeMetricFamily("connector_hooks", "Hooks by status (deleted ones not counted)", labels=["status"])
        for status, count in numbers.hooks.items():
            hooks.add_metric([status], count)
        yield hooks


def process_registry() -> CollectorRegistry:
    """The counters of this process, or of all processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _authorized(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    return header[:7].lower() == "bearer " and hmac.compare_digest(header[7:].strip().encode(), token.encode())


blp = Blueprint("metrics", __name__, description="Prometheus metrics.")


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.response(
        200,
        {"type": "string"},
        content_type=TEXT_FORMAT,
        description="Prometheus text format",
    )
    @blp.alt_response(401, description="CONNECTOR_METRICS_TOKEN is set and was not sent")
    @blp.doc(security=[{"bearer": []}, {}])
    def get(self):
        """Metrics for Prometheus

        Events ingested by trigger, attempts and deliveries by outcome, attempt durations
        (this process, or all processes with PROMETHEUS_MULTIPROC_DIR), and gauges read from
        the database: queue depth by state, the oldest due delivery's age, hooks by status.
        When CONNECTOR_METRICS_TOKEN is set, send it as `Authorization: Bearer TOKEN`.
        """
        token = current_app.config["METRICS_TOKEN"]
        if token and not _authorized(token):
            abort(401, message="/metrics needs 'Authorization: Bearer TOKEN' (CONNECTOR_METRICS_TOKEN)")
        body = generate_latest(process_registry()) + generate_latest(current_app.extensions[EXTENSION])
        return Response(body, content_type=TEXT_FORMAT)


def init_metrics(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(app.extensions["connector.db"]))
    app.extensions[EXTENSION] = registry
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    api.register_blueprint(blp)
