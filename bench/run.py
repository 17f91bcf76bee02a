"""The delivery benchmark: baselines and the connector, measured in the same run, as ratios.

    python bench/run.py                    # full run (7-12 min), medians of 3
    python bench/run.py --quick            # one run each, smaller loads (~3 min)
    python bench/run.py --postgres URL     # the PostgreSQL drains on that server (default: the local one)
    python bench/run.py --no-postgres      # without them
    python bench/run.py --drain-only       # the raw sender and the drains alone, SQLite and PostgreSQL

The PostgreSQL drains (1, 2 and 3 worker processes) each run on a fresh database created on
the server and dropped afterwards; with no server reachable they are skipped, with a note.

Everything runs on 127.0.0.1 and stops by itself: every load is bounded in count and
time. Prints one table and writes it as JSON to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine, func, select

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import load, raw_sender  # noqa: E402

PY = sys.executable
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"  # the server; the drains make their own databases
PG_WORKERS = (1, 2, 3)
PAD = "x" * 830  # makes each payload about 1 KB


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@contextmanager
def receiver(ports: list[int], slow: list[int] = (), latency: bool = False):
    args = [PY, os.path.join(ROOT, "bench", "receiver.py"), *map(str, ports)]
    args += [f"--slow={p}" for p in slow] + (["--latency"] if latency else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield lambda: load.get_json(f"http://127.0.0.1:{ports[0]}/stats")
    finally:
        proc.terminate()
        proc.wait(10)


def wait_http(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def env_for(db_url: str, **extra: str) -> dict[str, str]:
    # The receivers are on 127.0.0.1: let the SSRF guard through to them.
    return {**os.environ, "CONNECTOR_DATABASE_URL": db_url, "CONNECTOR_TARGET_ALLOWLIST": "127.0.0.0/8,::1/128", **extra}


def new_database(tmp: str, name: str) -> str:
    path = os.path.join(tmp, f"{name}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return f"sqlite:///{path}"


def prepare(db_url: str, ports: list[int], events: int) -> str:
    """An account with one hook per port and `events` published: events × ports due deliveries."""
    from connector import create_app
    from connector.services import accounts, publish, utcnow
    from connector.services.hooks import create_hook

    app = create_app({"DATABASE_URL": db_url, "DISPATCHER": False, "AUTO_MIGRATE": True})
    with app.extensions["connector.db"].session() as session:
        account, key = accounts.create_account(session, "bench", utcnow())
        for port in ports:
            create_hook(session, account.id, trigger="purchase", target_url=f"http://127.0.0.1:{port}/hook", now=utcnow())
        for start in range(0, events, 1000):
            batch = [
                publish.NewEvent("purchase", "purchase", 3, utcnow(), {"id": i, "product": "回数券 10回分", "note": PAD})
                for i in range(start, min(events, start + 1000))
            ]
            publish.publish(session, account.id, batch, utcnow())
            session.commit()
    app.extensions["connector.db"].dispose()
    return key


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                total += int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
        except (OSError, StopIteration):
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def count_status(engine: Engine, status: str) -> int:
    from connector.models import Delivery

    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(Delivery.__table__.c.status == status)).scalar_one()


def worker_command(processes: int = 1) -> list[str]:
    return [PY, "-m", "flask", "--app", "wsgi", "worker", "--processes", str(processes)]


def drain(tmp: str, ports: list[int], events: int, processes: int) -> dict:
    """Goal 1: deliver a backlog on SQLite, one worker command with `processes` dispatcher processes."""
    return measure_drain(new_database(tmp, "drain"), ports, events, [worker_command(processes)])


def drain_postgres(server: str, ports: list[int], events: int, workers: int) -> dict:
    """The same backlog on a fresh PostgreSQL database, delivered by `workers` worker commands
    (`flask --app wsgi worker`, each with its scheduler, as on separate machines)."""
    from tests.pg import fresh_database

    with fresh_database(server) as db_url:
        return measure_drain(db_url, ports, events, [worker_command()] * workers)


def measure_drain(db_url: str, ports: list[int], events: int, commands: list[list[str]]) -> dict:
    """Deliver a backlog; the rate from the first attempt to the last, every attempt recorded."""
    from connector.models import Attempt

    prepare(db_url, ports, events)
    total = events * len(ports)
    engine = create_engine(db_url)
    workers = [subprocess.Popen(c, cwd=ROOT, env=env_for(db_url), stderr=subprocess.DEVNULL) for c in commands]
    deadline = time.monotonic() + 180
    try:
        while count_status(engine, "succeeded") < total:
            if time.monotonic() > deadline:
                raise RuntimeError("drain did not finish in 180 s")
            time.sleep(0.1)
        memory = sum(rss_mb(w.pid) for w in workers)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
    a = Attempt.__table__.c
    try:
        with engine.connect() as conn:
            first, last, attempts = conn.execute(select(func.min(a.started_at), func.max(a.started_at), func.count())).one()
    finally:
        engine.dispose()
    seconds = (last - first).total_seconds()
    assert attempts == total, f"{attempts} attempts recorded for {total} deliveries"
    return {"deliveries": total, "seconds": round(seconds, 2), "per_second": round(total / seconds), "rss_mb": round(memory)}


def postgres_note(server: str | None) -> str | None:
    """Why the PostgreSQL drains are skipped, or None when they run."""
    if not server:
        return "skipped (--no-postgres)"
    from sqlalchemy.engine import make_url

    from tests.pg import available

    if not available(server):
        url = make_url(server)
        return f"skipped: no PostgreSQL server reachable at {url.host or '127.0.0.1'}:{url.port or 5432}"
    return None


def median_result(results: list[dict], key: str = "per_second") -> dict:
    ordered = sorted(results, key=lambda r: r.get(key) or 0)
    out = dict(ordered[len(ordered) // 2])
    out["runs"] = [r.get(key) for r in results]
    return out


def round_ratios(rounds: dict[str, list[dict]]) -> dict[str, float]:
    """Median over rounds of each drain's rate against the baselines of the same round."""

    def ratio(a: str, b: str) -> float:
        values = [
            x["per_second"] / y["per_second"]
            for x, y in zip(rounds[a], rounds[b], strict=True)
            if x.get("per_second") and y.get("per_second")
        ]
        return round(statistics.median(values), 2) if values else float("nan")

    pairs = {}
    for p in (1, 2):
        pairs[f"drain_1_p{p}_vs_raw"] = (f"drain_1_p{p}", "raw_1")
        pairs[f"drain_10_p{p}_vs_raw"] = (f"drain_10_p{p}", "raw_10")
        pairs[f"drain_1_p{p}_vs_drh"] = (f"drain_1_p{p}", "django_rest_hooks")
    for w in PG_WORKERS:
        pairs[f"pg_drain_1_w{w}_vs_raw"] = (f"pg_drain_1_w{w}", "raw_1")
        pairs[f"pg_drain_1_w{w}_vs_sqlite"] = (f"pg_drain_1_w{w}", "drain_1_p1")
    return {name: ratio(a, b) for name, (a, b) in pairs.items() if a in rounds and b in rounds}


def raw_baseline(ports: list[int], count: int, seconds: float) -> dict:
    body = json.dumps({"id": 1, "product": "回数券 10回分", "note": PAD, "trigger": "purchase"}).encode()
    rate = raw_sender.rate([f"http://127.0.0.1:{p}/hook" for p in ports], count, 64, body, seconds)
    return {"per_second": round(rate)}


def django_rest_hooks(port: int, count: int, seconds: float) -> dict:
    script = os.path.join(ROOT, "bench", "baselines", "django_rest_hooks.py")
    out = subprocess.run(
        ["python3", script, "--target", f"http://127.0.0.1:{port}/hook", "--count", str(count), "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"available": False, "reason": out.stderr[-300:]}


@contextmanager
def gunicorn(app: str, port: int, env: dict, workers: int = 4, threads: int = 1):
    args = [PY, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", app]
    if threads > 1:
        args += ["--threads", str(threads), "-k", "gthread"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_http(port)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def event_body(i: int) -> bytes:
    return json.dumps(
        {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": i, "product": "回数券", "note": PAD}}
    ).encode()


def ingest(tmp: str, runs: int, seconds: float) -> dict:
    """Goal 4: POST /api/v1/events against a bare Flask + SQLite app, both under gunicorn sync x 4."""
    bare_port, conn_port, hook_port = free_ports(3)
    db_url = new_database(tmp, "ingest")
    key = prepare(db_url, [hook_port], 0)
    bare_env = {**os.environ, "BARE_DB": os.path.join(tmp, "bare.sqlite")}
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    bare, connector = [], []
    with (
        gunicorn("bench.baselines.bare_flask:app", bare_port, bare_env),
        gunicorn("wsgi:app", conn_port, env_for(db_url, CONNECTOR_DISPATCHER="off")),
    ):
        for _ in range(runs):
            bare.append(load.post_rate(f"http://127.0.0.1:{bare_port}/api/v1/events", event_body, headers, 16, seconds))
            connector.append(load.post_rate(f"http://127.0.0.1:{conn_port}/api/v1/events", event_body, headers, 16, seconds))
    b = statistics.median(r["per_second"] for r in bare)
    c = statistics.median(r["per_second"] for r in connector)
    errors = sum(r["errors"] for r in connector)
    return {"bare_per_second": round(b), "connector_per_second": round(c), "ratio": round(c / b, 2), "connector_errors": errors}


def latency(tmp: str, rate: float, seconds: float) -> dict:
    """Goal 3: publish → received, at a steady rate, one subscriber, one connector process."""
    hook_port, web_port = free_ports(2)
    db_url = new_database(tmp, "latency")
    key = prepare(db_url, [hook_port], 0)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}

    def body(i: int) -> bytes:
        return json.dumps(
            {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": i, "sent_at": time.time(), "note": PAD}}
        ).encode()

    url = f"http://127.0.0.1:{web_port}/api/v1/events"
    with receiver([hook_port], latency=True) as stats, gunicorn("wsgi:app", web_port, env_for(db_url), workers=1, threads=8):
        # Warm up (the first requests import and build what the app needs lazily), then measure.
        warm = load.paced(url, body, headers, rate, 1.0)
        deadline = time.monotonic() + 30
        while stats()["count"] < warm and time.monotonic() < deadline:
            time.sleep(0.05)
        load.reset(f"http://127.0.0.1:{hook_port}/reset")
        sent = load.paced(url, body, headers, rate, seconds)
        deadline = time.monotonic() + 30
        while stats()["count"] < sent and time.monotonic() < deadline:
            time.sleep(0.1)
        lat = sorted(stats()["latencies_ms"])
    q = statistics.quantiles(lat, n=100)
    return {
        "events": sent,
        "received": len(lat),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(lat[-1], 1),
    }


def isolation(tmp: str, events: int, runs: int) -> dict:
    """Goal 5: nine fast subscribers' throughput with and without a tenth that answers after 10 s.

    Each round measures both back to back; the ratio reported is the median of the rounds' ratios
    (one drain of a few seconds swings by ±20 % on these machines)."""
    rounds = [
        {name: isolated_drain(tmp, events, slow) for name, slow in (("all_fast", False), ("one_slow", True))} for _ in range(runs)
    ]
    return {
        "all_fast": round(statistics.median(r["all_fast"] for r in rounds)),
        "one_slow": round(statistics.median(r["one_slow"] for r in rounds)),
        "ratio": round(statistics.median(r["one_slow"] / r["all_fast"] for r in rounds), 2),
        "rounds": rounds,
    }


def isolated_drain(tmp: str, events: int, slow: bool) -> float:
    """Deliveries per second to nine fast subscribers while a tenth is fast, or answers after 10 s."""
    ports = free_ports(10)
    fast = [str(p) for p in ports[:9]]
    db_url = new_database(tmp, "isolation")
    prepare(db_url, ports, events)
    with receiver(ports, slow=ports[9:] if slow else []) as stats:
        worker = subprocess.Popen(
            [PY, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env_for(db_url), stderr=subprocess.DEVNULL
        )
        try:
            start = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = sum(stats()["by_port"].get(p, 0) for p in fast)
                if got and start is None:
                    start = time.monotonic()
                if got >= 9 * events:
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - start
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    return round(9 * events / elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each, smaller loads")
    parser.add_argument(
        "--postgres", default=POSTGRES, metavar="URL", help="PostgreSQL server for the drains (default: %(default)s)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL drains")
    parser.add_argument(
        "--drain-only", action="store_true", help="baselines and drains only: no latency, django-rest-hooks, ingest, isolation"
    )
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "latest.json"))
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    backlog = 5000 if args.quick else 20000
    server = None if args.no_postgres else args.postgres
    pg_note = postgres_note(server)
    tmp = tempfile.mkdtemp(prefix="connector-bench-")
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "backlog": backlog,
        "postgres": {"server": server_name(server), "note": pg_note or "fresh database per drain"},
    }
    if pg_note:
        print(f"PostgreSQL drains {pg_note}", flush=True)
    try:
        # Latency first, on a quiet machine: later steps leave the kernel writing back
        # hundreds of MB of database files, which shows up as stalls in anything measured after.
        os.sync()
        if not args.drain_only:
            print("latency …", flush=True)
            results["latency"] = latency(tmp, 200, 5 if args.quick else 10)
        one, ten = free_ports(1), free_ports(10)
        rounds: dict[str, list[dict]] = {}
        with receiver(one + ten) as _:
            # Baselines and the connector interleaved, round by round: the machine drifts over
            # minutes, so each ratio is taken within a round and the median ratio reported.
            for n in range(runs):
                print(f"round {n + 1}/{runs}: raw aiohttp sender, connector drains, django-rest-hooks …", flush=True)
                steps = {
                    "raw_1": lambda: raw_baseline(one, backlog, 10),
                    "raw_10": lambda: raw_baseline(ten, backlog, 10),
                    "drain_1_p1": lambda: drain(tmp, one, backlog, 1),
                    "drain_10_p1": lambda: drain(tmp, ten, backlog // 10, 1),
                    "drain_1_p2": lambda: drain(tmp, one, backlog, 2),
                    "drain_10_p2": lambda: drain(tmp, ten, backlog // 10, 2),
                }
                if not pg_note:
                    for w in PG_WORKERS:
                        steps[f"pg_drain_1_w{w}"] = lambda w=w: drain_postgres(server, one, backlog, w)
                if not args.drain_only:
                    steps["django_rest_hooks"] = lambda: django_rest_hooks(one[0], 3000, 10)
                for name, step in steps.items():
                    rounds.setdefault(name, []).append(step())
        for name, values in rounds.items():
            results[name] = median_result(values)
        results["ratios"] = round_ratios(rounds)
        if not args.drain_only:
            os.sync()
            print("ingest …", flush=True)
            results["ingest"] = ingest(tmp, runs, 5)
            print("isolation …", flush=True)
            results["isolation"] = isolation(tmp, 300 if args.quick else 2000, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
    print(table(results))


def server_name(url: str | None) -> str | None:
    """host:port of a server URL, without its credentials."""
    if not url:
        return None
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"{u.host or '127.0.0.1'}:{u.port or 5432}"


def table(r: dict) -> str:
    raw1, raw10 = r["raw_1"]["per_second"], r["raw_10"]["per_second"]
    ratios = r["ratios"]
    drh = r.get("django_rest_hooks")
    rows = [
        ("raw aiohttp sender, 64 in flight, 1 subscriber", f"{raw1:,}/s", "baseline"),
        ("raw aiohttp sender, 64 in flight, 10 subscribers", f"{raw10:,}/s", "baseline"),
    ]
    if drh is not None:
        drh_rate = drh.get("per_second") if drh.get("available") else 210
        drh_note = "measured here" if drh.get("available") else "not installable here: the issue's 210/s"
        rows.append((f"django-rest-hooks 1.5, 1 subscriber ({drh_note})", f"{drh_rate:,.0f}/s", "baseline"))
    for p in (1, 2):
        d1, d10 = r[f"drain_1_p{p}"], r[f"drain_10_p{p}"]
        vs = f"{ratios[f'drain_1_p{p}_vs_raw']:.2f} × raw"
        if drh is not None:
            vs_drh = ratios[f"drain_1_p{p}_vs_drh"] if drh.get("available") else d1["per_second"] / drh_rate
            vs += f"; {vs_drh:.1f} × django-rest-hooks"
        rows.append((f"connector drain, 1 subscriber, {p} worker process(es)", f"{d1['per_second']:,}/s", vs))
        rows.append(
            (
                f"connector drain, 10 subscribers, {p} worker process(es)",
                f"{d10['per_second']:,}/s",
                f"{ratios[f'drain_10_p{p}_vs_raw']:.2f} × raw",
            )
        )
    memory = f"{r['drain_1_p1']['rss_mb']} / {r['drain_1_p2']['rss_mb']} MB"
    rows.append(("connector worker RSS at the end of the drain (1 / 2 processes)", memory, "goal ≤ 250 MB"))
    if "pg_drain_1_w1" in r:
        for w in PG_WORKERS:
            d = r[f"pg_drain_1_w{w}"]
            vs = f"{ratios[f'pg_drain_1_w{w}_vs_raw']:.2f} × raw; {ratios[f'pg_drain_1_w{w}_vs_sqlite']:.2f} × SQLite, 1 process"
            rows.append((f"connector drain on PostgreSQL, 1 subscriber, {w} worker process(es)", f"{d['per_second']:,}/s", vs))
        memory = " / ".join(str(r[f"pg_drain_1_w{w}"]["rss_mb"]) for w in PG_WORKERS) + " MB"
        rows.append(("PostgreSQL workers' RSS together at the end of the drain (1 / 2 / 3)", memory, ""))
    else:
        rows.append(("connector drain on PostgreSQL", "—", r["postgres"]["note"]))
    if "latency" in r:
        lat = r["latency"]
        rows.append(
            (
                f"ingest → received at 200 events/s ({lat['received']}/{lat['events']})",
                f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms",
                "goal p50 ≤ 5, p99 ≤ 50",
            )
        )
    if "ingest" in r:
        ing = r["ingest"]
        rows.append(("bare Flask + SQLite, one INSERT, gunicorn sync × 4", f"{ing['bare_per_second']:,}/s", "baseline"))
        rows.append(
            (
                "connector POST /api/v1/events, gunicorn sync × 4",
                f"{ing['connector_per_second']:,}/s",
                f"{ing['ratio']:.2f} × bare",
            )
        )
    if "isolation" in r:
        iso = r["isolation"]
        rows.append(("9 fast subscribers, all 10 fast", f"{iso['all_fast']:,}/s", "baseline"))
        rows.append(("9 fast subscribers, 10th answers after 10 s", f"{iso['one_slow']:,}/s", f"{iso['ratio']:.2f} × all fast"))
    width = max(len(a) for a, _, _ in rows)
    lines = [
        f"Connector benchmark — {r['date']} — {r['machine']} — backlog {r['backlog']:,}",
        "(figures: medians over rounds; drain ratios: median of the ratios within each round)",
        "",
    ]
    lines += [f"| {'what':<{width}} | {'figure':>22} | ratio |", f"|{'-' * (width + 2)}|{'-' * 24}|-------|"]
    lines += [f"| {a:<{width}} | {b:>22} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
