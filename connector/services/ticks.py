"""Periodic jobs once per tick across the whole cluster, whatever the number of processes.

Every process runs the same APScheduler jobs; before doing the work, a job claims the
tick with one conditional UPDATE of its row in `cluster_jobs` (last run older than the
interval → now). The database lets exactly one process win: the others see the fresh
time and skip. This works the same on SQLite and PostgreSQL, needs no lock held while
the job runs, and survives restarts (unlike an advisory lock, it also keeps a second
process from running the job again a moment later in the same interval).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import write_lock
from ..models import ClusterJob


def claim(session: Session, name: str, now: datetime, interval: float) -> bool:
    """True for the one caller that may run job `name` now; commits.

    A tick counts as due a little early (a tenth of the interval, at most a second), so
    that a scheduler firing a few milliseconds ahead of the last run does not skip it.
    """
    slack = min(1.0, interval / 10)
    due_before = now - timedelta(seconds=interval - slack)
    with write_lock(session):
        won = session.execute(
            update(ClusterJob).where(ClusterJob.name == name, ClusterJob.last_run_at <= due_before).values(last_run_at=now),
            execution_options={"synchronize_session": False},
        ).rowcount
        if not won and session.get(ClusterJob, name) is None:
            session.add(ClusterJob(name=name, last_run_at=now))  # the job's first run anywhere
            try:
                session.commit()
            except IntegrityError:  # another process made the row first, and so won
                session.rollback()
                return False
            return True
        session.commit()
    return bool(won)
