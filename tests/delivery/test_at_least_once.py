"""At least once: a worker killed with SIGKILL mid fan-out loses nothing; another finishes the work."""

import os
import signal
import subprocess
import sys

from sqlalchemy import func, select

from connector.models import Delivery
from tests.conftest import LOCAL_TARGETS, make_tenant
from tests.receiver import Answer, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVENTS = 200


def start_worker(db_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CONNECTOR_DATABASE_URL": db_url,
        "CONNECTOR_LEASE_SECONDS": "1",
        "CONNECTOR_POLL_INTERVAL": "0.1",
        "CONNECTOR_PER_HOST_CONCURRENCY": "4",
        "CONNECTOR_TARGET_ALLOWLIST": LOCAL_TARGETS,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_sigkill_mid_fan_out_loses_nothing(app, client, webhook_receiver):
    tenant = make_tenant(app, "studio")
    webhook_receiver.defaults["/hook"] = Answer(delay=0.01)
    client.post("/api/v1/hooks", json={"target_url": webhook_receiver.url(), "trigger": "purchase"}, headers=tenant.headers)
    batch = [{"object": "purchase", "event": "purchase", "role": 3, "data": {"id": n}} for n in range(EVENTS)]
    assert client.post("/api/v1/events/batch", json=batch, headers=tenant.headers).json["deliveries"] == EVENTS

    url = app.config["DATABASE_URL"]
    first = start_worker(url)
    try:
        webhook_receiver.wait_count(30, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert len({r.headers["webhook-id"] for r in webhook_receiver.received()}) < EVENTS, "killed too late to prove anything"

    second = start_worker(url)
    try:
        webhook_receiver.wait_for(lambda reqs: len({r.headers["webhook-id"] for r in reqs}) >= EVENTS, timeout=60)

        def all_succeeded():
            with app.extensions["connector.db"].session() as session:
                done = session.scalar(select(func.count()).where(Delivery.status == "succeeded"))
            return done == EVENTS

        wait_until(all_succeeded, timeout=30, what="every delivery recorded as succeeded")
    finally:
        second.send_signal(signal.SIGTERM)
        _, stderr = second.communicate(timeout=30)
    assert second.returncode == 0, stderr.decode()
    received = webhook_receiver.received()
    duplicates = len(received) - len({r.headers["webhook-id"] for r in received})
    print(f"{EVENTS} deliveries, {len(received)} requests received, {duplicates} duplicates after SIGKILL")
