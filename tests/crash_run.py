"""Crash without loss: publish events to flaky subscribers while SIGKILL takes the connector down.

    python -m tests.crash_run                       # the full run: 5,000 events, 2 subscribers, 3+ kills
    python -m tests.crash_run --events 300 --kills 3 --database-url postgresql+psycopg://...

A web process (gunicorn, its own dispatcher inside) and a worker process deliver from one
database to two receivers on 127.0.0.1 that fail 30 % of requests at random: a 500, a
connection reset, or no answer until the attempt times out. Events go in as batches with an
Idempotency-Key, repeated until answered 202 (so a batch caught by a kill is neither lost nor
doubled). At random moments one of the processes is killed with SIGKILL and started again.
The run ends when no delivery is pending; then every accepted event must have been answered
200 by every subscriber at least once. Duplicates (one webhook-id answered 200 twice) are
counted: at least once, not exactly once, is the promise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests
from sqlalchemy import create_engine, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
ERROR = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom"


@dataclass
class FlakyReceiver:
    """An HTTP receiver that fails `fail_rate` of requests: a 500, a reset, or silence past the timeout."""

    fail_rate: float
    silence: float  # how long a "timeout" failure keeps the request unanswered
    seed: int
    port: int = 0
    answered: list[tuple[str, str]] = field(default_factory=list)  # (webhook-id, event_id) answered 200
    failures: Counter = field(default_factory=Counter)

    def start(self) -> None:
        self._random = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._writers: set[asyncio.StreamWriter] = set()
        ready.set()
        self._loop.run_forever()
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in head.decode("latin-1").lower().split("\r\n")[1:] if ": " in line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self._random.random() < self.fail_rate:
                    kind = self._random.choice(("500", "reset", "timeout"))
                    self.failures[kind] += 1
                    if kind == "500":
                        writer.write(ERROR)
                        await writer.drain()
                        continue
                    if kind == "timeout":
                        await asyncio.sleep(self.silence)  # the receiver hangs on purpose
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()  # RST
                    return
                self.answered.append((headers.get("webhook-id", ""), json.loads(body).get("event_id", "")))
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()
        finally:
            self._writers.discard(writer)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connector:
    """The processes under test, by name: web processes (gunicorn) and worker processes.

    `web` serves on `port`; with `web_processes=N` there are also `web2` … `webN`, each a
    gunicorn of its own on a port of its own. Workers are `worker`, `worker2` … `workerM`
    (`flask --app wsgi worker`). A web process delivers too unless `env` sets
    CONNECTOR_DISPATCHER=off (workers always do). Each process leads a session of its own, so
    that a kill takes gunicorn's master and its workers alike.
    """

    def __init__(
        self,
        db_url: str,
        port: int,
        timeout: float,
        web_processes: int = 1,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_dir: str | None = None,
    ) -> None:
        self.port = port
        self.log_dir = log_dir  # each process's stderr goes to NAME.log there; else nowhere
        self.ports = {"web": port, **{f"web{n}": free_port() for n in range(2, web_processes + 1)}}
        self.workers = ["worker", *(f"worker{n}" for n in range(2, workers + 1))]
        self.env = {
            **os.environ,
            "CONNECTOR_DATABASE_URL": db_url,
            "CONNECTOR_LEASE_SECONDS": "2",
            "CONNECTOR_POLL_INTERVAL": "0.2",
            "CONNECTOR_DELIVERY_TIMEOUT": str(timeout),
            "CONNECTOR_RETRY_SCHEDULE": json.dumps([0.2, 0.5] + [1] * 28),
            "CONNECTOR_RETRY_JITTER": "0.2",
            "CONNECTOR_STOP_TIMEOUT": "1",
            "CONNECTOR_TARGET_ALLOWLIST": "127.0.0.0/8",
            **(env or {}),
        }
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def names(self) -> list[str]:
        return [*self.ports, *self.workers]

    def api(self, name: str = "web") -> str:
        return f"http://127.0.0.1:{self.ports[name]}/api/v1"

    def command(self, name: str) -> list[str]:
        if name in self.ports:
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-k",
                "gthread",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{self.ports[name]}",
                "wsgi:app",
            ]
        return [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]

    def start(self, name: str) -> None:
        stderr = open(os.path.join(self.log_dir, f"{name}.log"), "ab") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.procs[name] = subprocess.Popen(
                self.command(name),
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()  # the child has its own copy

    def start_all(self, timeout: float = 60) -> None:
        """Every process, then wait until each web process answers /healthz."""
        for name in self.names:
            self.start(name)
        for name, port in self.ports.items():
            wait_for(lambda port=port: serving(port), timeout, f"the web process {name}")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # gunicorn's master and its worker alike
        except ProcessLookupError:
            pass
        proc.wait(30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def subscribe(self, key: str, receivers: list[FlakyReceiver], trigger: str = "purchase") -> None:
        """One hook per receiver, on the account of `key`."""
        for r in receivers:
            hook = requests.post(
                f"{self.api()}/hooks",
                json={"target_url": f"http://127.0.0.1:{r.port}/hook", "trigger": trigger},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
            hook.raise_for_status()


def wait_for(predicate, timeout: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        pause.wait(step)


def serving(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def publish_batches(
    api: str,
    key: str,
    numbers: Sequence[int],
    batch: int,
    until: float,
    accepted: set[str],
    errors: Counter,
    gap: float = 0.0,
) -> None:
    """Publish one `purchase` event per number, `batch` at a time, to `api` (…/api/v1).

    Each batch carries an Idempotency-Key and is sent again until answered 202, or until
    `until` (a time.monotonic() deadline): a web process that is down or restarting neither
    loses nor doubles it. Accepted event ids go into `accepted`, other answers into `errors`;
    `gap` seconds pass between batches.
    """
    session = requests.Session()
    pause = threading.Event()
    auth = {"Authorization": f"Bearer {key}"}
    for start in range(0, len(numbers), batch):
        body = [
            {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": n, "product": "回数券"}}
            for n in numbers[start : start + batch]
        ]
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        while time.monotonic() < until:
            try:
                answer = session.post(f"{api}/events/batch", json=body, headers=headers, timeout=30)
                if answer.status_code == 202:
                    accepted.update(e["id"] for e in answer.json()["events"])
                    break
                errors[str(answer.status_code)] += 1
            except requests.RequestException as error:
                errors[type(error).__name__] += 1
                session.close()
                session = requests.Session()
            pause.wait(0.2)  # the connector is down or restarting: ask again
        if gap:
            pause.wait(gap)
    session.close()


def run(
    events: int = 5000,
    kills: int = 3,
    batch: int = 50,
    fail_rate: float = 0.3,
    publish_seconds: float = 20.0,
    timeout: float = 1.0,
    database_url: str | None = None,
    deadline: float = 900.0,
    seed: int | None = None,
    log=print,
) -> dict:
    """One crash run; a report with `lost` (must be 0) and `duplicates`."""
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="connector-crash-")
    db_url = database_url or f"sqlite:///{tmp}/crash.sqlite"
    receivers = [FlakyReceiver(fail_rate, timeout + 0.5, seed + i) for i in range(2)]
    for r in receivers:
        r.start()
    connector = Connector(db_url, free_port(), timeout)
    connector.cli("db", "upgrade")
    key = connector.cli("create-account", f"crash-{seed}").strip().splitlines()[-1]
    api = connector.api()
    connector.start("web")
    connector.start("worker")
    started = time.monotonic()
    try:
        wait_for(lambda: serving(connector.port), 60, "the web process")
        connector.subscribe(key, receivers)
        started = time.monotonic()  # kill moments count from the first event
        gap = publish_seconds / max(1, -(-events // batch))

        accepted: set[str] = set()
        publishing_done = threading.Event()
        publish_errors = Counter()

        def publish() -> None:
            publish_batches(api, key, range(events), batch, started + deadline, accepted, publish_errors, gap)
            publishing_done.set()

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()

        # Kills at random moments: most while events pour in, the last one while the queue drains.
        kill_log = []
        moments = sorted(rng.uniform(0.1, 0.9) * publish_seconds for _ in range(kills - 1)) + [
            publish_seconds + rng.uniform(0.5, 2.0)
        ]
        pause = threading.Event()
        for at in moments:
            pause.wait(max(0.0, started + at - time.monotonic()))
            victim = rng.choice(["web", "worker"])
            connector.kill(victim)
            kill_log.append((round(time.monotonic() - started, 1), victim))
            log(f"  {kill_log[-1][0]:6.1f}s  SIGKILL {victim}")
            pause.wait(rng.uniform(0.0, 1.0))  # down for a moment
            connector.start(victim)
            if victim == "web":
                wait_for(lambda: serving(connector.port), 60, "the web process to come back")
        wait_for(publishing_done.is_set, deadline, "publishing")
        engine = create_engine(db_url)

        def queue_empty() -> bool:
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM deliveries WHERE status = 'pending'")).scalar() == 0

        wait_for(queue_empty, max(1.0, deadline - (time.monotonic() - started)), "the queue to empty", step=0.5)
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status")).all())
            attempts = conn.execute(text("SELECT count(*) FROM attempts")).scalar()
        engine.dispose()
    finally:
        connector.stop()
        for r in receivers:
            r.stop()

    expected = {(i, event_id) for i in range(len(receivers)) for event_id in accepted}
    got = {(i, event_id) for i, r in enumerate(receivers) for _, event_id in r.answered}
    answered = [webhook_id for r in receivers for webhook_id, _ in r.answered]
    report = {
        "seed": seed,
        "database": db_url.split(":", 1)[0],
        "events_accepted": len(accepted),
        "deliveries_expected": len(expected),
        "delivered": len(expected & got),
        "lost": len(expected - got),
        "duplicates": len(answered) - len(set(answered)),
        "kills": kill_log,
        "receiver_failures": dict(sum((r.failures for r in receivers), Counter())),
        "publish_retries": dict(publish_errors),
        "attempts_recorded": attempts,
        "deliveries_by_status": statuses,
        "seconds": round(time.monotonic() - started, 1),
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--publish-seconds", type=float, default=20.0)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    print(f"crash run: {args.events} events, 2 subscribers failing {args.fail_rate:.0%}, {args.kills} SIGKILLs")
    report = run(
        args.events,
        args.kills,
        fail_rate=args.fail_rate,
        publish_seconds=args.publish_seconds,
        database_url=args.database_url,
        seed=args.seed,
    )
    print(json.dumps(report, indent=2))
    print("LOST NOTHING" if report["lost"] == 0 else f"LOST {report['lost']} DELIVERIES")
    sys.exit(0 if report["lost"] == 0 else 1)


if __name__ == "__main__":
    main()
