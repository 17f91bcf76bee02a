"""The in-process clock (APScheduler 3): wakes the dispatcher for due retries, fires reminders, runs upkeep.

Durable state lives in the connector's tables; no job store is used, so nothing here
needs to survive a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def make_scheduler(
    wake: Callable[[], None],
    housekeeping: Callable[[], None],
    checkpoint: Callable[[], None],
    wake_interval: float,
    housekeeping_interval: float,
    reminders: Callable[[], None] | None = None,
    reminder_interval: float = 15,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(wake, "interval", seconds=wake_interval, id="dispatch-due")
    scheduler.add_job(_logged(checkpoint, "checkpoint"), "interval", seconds=1, id="checkpoint")
    scheduler.add_job(_logged(housekeeping, "housekeeping"), "interval", seconds=housekeeping_interval, id="housekeeping")
    if reminders is not None:
        # First run at start: reminders that fell due while the connector was down go out at once.
        scheduler.add_job(
            _logged(reminders, "reminders"),
            "interval",
            seconds=reminder_interval,
            id="reminders",
            next_run_time=datetime.now(UTC),
        )
    return scheduler


def _logged(job: Callable[[], None], name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed", name)

    return run
