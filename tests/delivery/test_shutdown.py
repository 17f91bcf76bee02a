"""SIGTERM: a web or worker process stops taking work, and gives back what it could not finish in time."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from connector.models import Delivery
from tests.conftest import make_tenant
from tests.receiver import Answer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STOP_TIMEOUT = 1.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


COMMANDS = {
    "worker": lambda port: [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--stop-timeout", str(STOP_TIMEOUT)],
    "web (gunicorn)": lambda port: [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
}


def leased(app) -> int:
    with app.extensions["connector.db"].session() as session:
        return session.scalar(select(func.count()).where(Delivery.status == "pending", Delivery.lease_owner.is_not(None)))


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_sigterm_gives_back_attempts_it_cannot_finish(app, client, webhook_receiver, kind):
    tenant = make_tenant(app, "studio")
    held = threading.Event()
    webhook_receiver.defaults["/hook"] = Answer(hold=held)  # every attempt stays in flight
    client.post("/api/v1/hooks", json={"target_url": webhook_receiver.url(), "trigger": "purchase"}, headers=tenant.headers)
    batch = [{"object": "purchase", "event": "purchase", "role": 3, "data": {"id": n}} for n in range(20)]
    assert client.post("/api/v1/events/batch", json=batch, headers=tenant.headers).status_code == 202

    env = {
        **os.environ,
        "CONNECTOR_DATABASE_URL": app.config["DATABASE_URL"],
        "CONNECTOR_POLL_INTERVAL": "0.1",
        "CONNECTOR_STOP_TIMEOUT": str(STOP_TIMEOUT),
        "CONNECTOR_PER_HOST_CONCURRENCY": "4",
        "CONNECTOR_TARGET_ALLOWLIST": "127.0.0.0/8",
    }
    proc = subprocess.Popen(COMMANDS[kind](free_port()), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        webhook_receiver.wait_count(4, timeout=30)  # four attempts in flight, held by the receiver
        assert leased(app) > 0
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - asked
    finally:
        held.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert took < STOP_TIMEOUT + 10, f"took {took:.1f}s to stop"
    assert leased(app) == 0, "every delivery not finished was given back, none waits for its lease to run out"
    with app.extensions["connector.db"].session() as session:
        assert session.scalar(select(func.count()).where(Delivery.status == "pending")) == 20
