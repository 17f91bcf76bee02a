"""The app's background work: a dispatcher and the scheduler, kept in app.extensions."""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import threading
from datetime import timedelta

from flask import Flask

from .db import Database
from .delivery.dispatcher import Dispatcher, DispatcherSettings
from .delivery.guard import TargetGuard
from .delivery.retry import RetryPolicy
from .delivery.wakeups import Listener, supported
from .scheduler import make_scheduler
from .services import housekeeping, reminders, ticks, utcnow

DISPATCHER = "connector.dispatcher"
SCHEDULER = "connector.scheduler"
LISTENER = "connector.listener"


def retry_policy(app: Flask) -> RetryPolicy:
    return RetryPolicy.from_config(app.config["RETRY_SCHEDULE"], jitter=float(app.config["RETRY_JITTER"]))


def make_dispatcher(app: Flask) -> Dispatcher:
    c = app.config
    settings = DispatcherSettings(
        lease=timedelta(seconds=float(c["LEASE_SECONDS"])),
        poll_interval=float(c["POLL_INTERVAL"]),
        timeout=float(c["DELIVERY_TIMEOUT"]),
        max_response_bytes=int(c["MAX_RESPONSE_BYTES"]),
        per_host_limit=int(c["PER_HOST_CONCURRENCY"]),
        total_limit=int(c["TOTAL_CONCURRENCY"]),
        guard=TargetGuard.from_config(c),
    )
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    database: Database = app.extensions["connector.db"]
    return Dispatcher(database.sessions, owner, retry_policy(app), settings)


def run_housekeeping(app: Flask) -> None:
    c = app.config
    with app.extensions["connector.db"].session() as session:
        now = utcnow()
        if not ticks.claim(session, "housekeeping", now, float(c["HOUSEKEEPING_INTERVAL"])):
            return  # another process ran this tick
        housekeeping.disable_failing_hooks(session, now, timedelta(seconds=float(c["DISABLE_AFTER_SECONDS"])))
        housekeeping.purge(session, now, timedelta(days=float(c["RETENTION_DAYS"])))
        reminders.purge(session, now, timedelta(days=float(c["RETENTION_DAYS"])))


def run_reminders(app: Flask, dispatcher: Dispatcher) -> None:
    """Publish the reminders that fell due, then have the dispatcher send them at once."""
    with app.extensions["connector.db"].session() as session:
        now = utcnow()
        if not ticks.claim(session, "reminders", now, float(app.config["REMINDER_INTERVAL"])):
            return  # another process ran this tick
        lateness = timedelta(seconds=float(app.config["REMINDER_MAX_LATENESS"]))
        if reminders.fire_all_due(session, now, lateness).fired:
            dispatcher.wake()


def start(app: Flask, scheduler: bool = True) -> Dispatcher:
    """Start this process's dispatcher (and scheduler) once; later calls return the running one."""
    if DISPATCHER in app.extensions:
        return app.extensions[DISPATCHER]
    dispatcher = make_dispatcher(app)
    dispatcher.start()
    app.extensions[DISPATCHER] = dispatcher
    engine_url = app.extensions["connector.db"].engine.url
    if supported(engine_url):  # PostgreSQL: work made due by any process wakes this one at once
        listener = Listener(engine_url, dispatcher.wake)
        listener.start()
        app.extensions[LISTENER] = listener
    if scheduler:
        clock = make_scheduler(
            dispatcher.wake,
            lambda: run_housekeeping(app),
            app.extensions["connector.db"].checkpoint,
            float(app.config["POLL_INTERVAL"]),
            float(app.config["HOUSEKEEPING_INTERVAL"]),
            reminders=lambda: run_reminders(app, dispatcher),
            reminder_interval=float(app.config["REMINDER_INTERVAL"]),
        )
        clock.start()
        app.extensions[SCHEDULER] = clock
    # A web process (gunicorn, flask run) ends by returning from its main loop: on the way out,
    # attempts in flight get STOP_TIMEOUT seconds to finish and the rest is given back at once
    # rather than staying leased until LEASE_SECONDS pass. The worker command stops it itself.
    # Registered with threading's exit hooks, which run before concurrent.futures refuses new
    # work at interpreter exit: the dispatcher's last records still reach the database.
    timeout = float(app.config["STOP_TIMEOUT"])
    try:
        threading._register_atexit(stop, app, timeout)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        atexit.register(stop, app, timeout)
    return dispatcher


def stop(app: Flask, timeout: float = 10.0) -> None:
    """Stop the scheduler, then the dispatcher: in-flight attempts finish or are given back."""
    scheduler = app.extensions.pop(SCHEDULER, None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    listener = app.extensions.pop(LISTENER, None)
    if listener is not None:
        listener.stop()
    dispatcher = app.extensions.pop(DISPATCHER, None)
    if dispatcher is not None:
        dispatcher.stop(timeout)


def local_dispatcher(app: Flask) -> Dispatcher | None:
    dispatcher = app.extensions.get(DISPATCHER)
    return dispatcher if dispatcher is not None and dispatcher.running else None


def wake(app: Flask) -> None:
    """Tell this process's dispatcher that deliveries may be due now."""
    dispatcher = local_dispatcher(app)
    if dispatcher is not None:
        dispatcher.wake()
