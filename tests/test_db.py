"""The embedded SQLite database: WAL, checkpoints off the request path, one writer at a time."""

import threading

import pytest

from connector.db import FOREGROUND_CHECKPOINT_PAGES, write_lock

pytestmark = pytest.mark.sqlite_only


def test_checkpoints_run_in_the_background_not_in_commits(app, client, tenant):
    database = app.extensions["connector.db"]
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == FOREGROUND_CHECKPOINT_PAGES
    for n in range(20):
        body = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": n}}
        assert client.post("/api/v1/events", json=body, headers=tenant.headers).status_code == 202
    database.checkpoint()
    with database.engine.connect() as conn:
        busy, wal_pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and wal_pages == copied  # everything in the WAL is in the database file


def test_writers_take_turns(app):
    database = app.extensions["connector.db"]
    inside, overlap = [], []

    def write():
        with database.session() as session, write_lock(session):
            inside.append(1)
            overlap.append(len(inside))
            session.connection().exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
            session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
            session.commit()
            inside.pop()

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert max(overlap) == 1 and len(overlap) == 8


def test_many_concurrent_requests_never_wait_for_a_connection(app, tenant):
    """Each request may hold two pooled connections; more threads than the pool must not block."""
    errors, done = [], []

    def call():
        client = app.test_client()
        for _ in range(3):
            response = client.get("/api/v1/hooks", headers=tenant.headers)
            (done if response.status_code == 200 else errors).append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(done) == 72
