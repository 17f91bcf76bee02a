"""PostgreSQL: work made due in one process wakes the dispatchers of the others at once (LISTEN/NOTIFY)."""

import threading

import pytest

from connector import background
from connector.delivery.wakeups import Listener, notify_due
from tests.conftest import make_tenant


@pytest.fixture
def postgres_app(app):
    if app.extensions["connector.db"].engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    return app


def test_a_notification_arrives_at_commit_not_before(postgres_app):
    woke = threading.Event()
    listener = Listener(postgres_app.extensions["connector.db"].engine.url, woke.set)
    assert listener.start(), "listening"
    try:
        woke.clear()  # the listener wakes once on connecting, for what was due meanwhile
        with postgres_app.extensions["connector.db"].session() as session:
            notify_due(session)
            assert not woke.wait(0.3), "nothing before the commit"
            session.commit()
        assert woke.wait(5), "woken at commit"
    finally:
        listener.stop()


def test_an_event_published_elsewhere_is_pushed_at_once(postgres_app, database_url, webhook_receiver):
    """The web process has no dispatcher; the worker polls only every 60 s, so only NOTIFY can be this quick."""
    from connector import create_app

    tenant = make_tenant(postgres_app, "studio")
    client = postgres_app.test_client()
    client.post("/api/v1/hooks", json={"target_url": webhook_receiver.url(), "trigger": "purchase"}, headers=tenant.headers)
    worker = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "AUTO_MIGRATE": False,
            "DISPATCHER": False,
            "POLL_INTERVAL": 60,
            "TARGET_ALLOWLIST": "127.0.0.0/8",
        }
    )
    background.start(worker)
    try:
        assert worker.extensions[background.LISTENER]._listening.wait(10)
        for n in range(3):
            body = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": n}}
            assert client.post("/api/v1/events", json=body, headers=tenant.headers).status_code == 202
            webhook_receiver.wait_count(n + 1, timeout=5)
    finally:
        background.stop(worker, timeout=2)
        worker.extensions["connector.db"].dispose()
