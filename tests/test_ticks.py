"""Periodic jobs run once per tick across every process on the database (SQLite and PostgreSQL)."""

import threading
from datetime import UTC, datetime, timedelta

from connector.services import ticks

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_one_claim_per_interval(app):
    db = app.extensions["connector.db"]
    with db.session() as session:
        assert ticks.claim(session, "housekeeping", T0, 60)  # the first run anywhere
        assert not ticks.claim(session, "housekeeping", T0 + timedelta(seconds=1), 60), "another process, same tick"
        assert not ticks.claim(session, "housekeeping", T0 + timedelta(seconds=58), 60)
        assert ticks.claim(session, "housekeeping", T0 + timedelta(seconds=59.5), 60), "a scheduler a little early"
        assert ticks.claim(session, "reminders", T0 + timedelta(seconds=60), 15), "each job has its own clock"


def test_processes_racing_for_a_tick_run_it_once(app):
    db = app.extensions["connector.db"]

    def race(now: datetime) -> list[bool]:
        won, start = [], threading.Barrier(6)

        def contender():
            with db.session() as session:
                start.wait(10)
                won.append(ticks.claim(session, "housekeeping", now, 60))

        threads = [threading.Thread(target=contender) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return sorted(won)

    for minute in range(3):  # the first run (the row is made) and two later ticks
        assert race(T0 + timedelta(minutes=minute)) == [False] * 5 + [True], f"tick {minute}"
