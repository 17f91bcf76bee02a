"""Baseline: webhook deliveries per second of django-rest-hooks 1.5.0 to ONE subscriber.

What it measures: a minimal in-process Django project (SQLite in a temp dir, apps contenttypes/auth/rest_hooks)
with one user and one ``rest_hooks.models.Hook`` row pointing at ``--target``. Events are fired the way
django-rest-hooks users fire custom events, ``rest_hooks.signals.raw_hook_event.send(...)``, which runs the
library's own path: Hook lookup in the DB -> ``Hook.deliver_hook`` -> ``client.post`` of the JSON body.

The library's default (``HOOK_THREADING`` unset = True) does not post inline: ``client`` is
``rest_hooks.client.Client``, which queues the request and lets up to 3 threads drain the queue, each with its own
``requests.Session``. That default is what is measured; ``--sync`` sets ``HOOK_THREADING = False`` instead, so
every event blocks on one shared ``requests.Session().post``.

Events are fired until --count were fired or --seconds passed; the clock runs from the first event to the last
completed delivery (a 2xx answer), at most --seconds. Deliveries still queued at the deadline are dropped, not counted.
Each POST body is {"hook": {...}, "data": <--payload-bytes of JSON>} (about 1.1 KB at the default). Deliveries are
counted by wrapping requests.Session.request, which also adds a 5 s timeout (the library sets none) so nothing hangs.

How: run by the system python3; it creates bench/.venv-drh (if missing), installs django-rest-hooks there and
re-executes itself inside it. If the install fails it prints {"available": false, "reason": ...} and exits 0.

    python3 bench/baselines/django_rest_hooks.py --target http://127.0.0.1:9000/hook --count 2000 --seconds 10 [--json]

Output: one JSON line on stdout (with or without --json; the flag is accepted for symmetry with the other benches).
"""

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

VENV = Path(__file__).resolve().parents[1] / ".venv-drh"
PACKAGES = ["django-rest-hooks==1.5.0", "django<4", "requests"]
INNER_FLAG = "DRH_BENCH_INNER"
EVENT = "booking.added"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", required=True, help="subscriber URL (loopback only)")
    p.add_argument("--count", type=int, default=2000, help="events to fire at most")
    p.add_argument("--seconds", type=float, default=10.0, help="time limit of the measurement")
    p.add_argument("--payload-bytes", type=int, default=1024, help="size of each event's JSON data")
    p.add_argument("--sync", action="store_true", help="HOOK_THREADING = False: one blocking post per event")
    p.add_argument("--json", action="store_true", help="JSON output (always on)")
    args = p.parse_args()
    host = urlsplit(args.target).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        p.error(f"--target must be a loopback address, got {host!r}")
    return args


def emit(result):
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- outside: venv, then re-exec
def outside():
    python = VENV / "bin" / "python"
    check = "import importlib.metadata as m, sys; sys.exit(m.version('django-rest-hooks') != '1.5.0')"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        if subprocess.run([str(python), "-c", check], capture_output=True, timeout=60).returncode != 0:
            cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary", ":all:", *PACKAGES]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                return emit({"available": False, "reason": "pip install failed: " + " | ".join(tail)})
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else detail
        return emit({"available": False, "reason": f"venv setup failed: {exc} {detail.strip()[-300:]}".strip()})
    os.execve(str(python), [str(python), os.path.abspath(__file__), *sys.argv[1:]], {**os.environ, INNER_FLAG: "1"})


# ---------------------------------------------------------------- inside the venv: the measurement
def inside(args, tmp):
    import threading
    import warnings

    warnings.filterwarnings("ignore")  # Django 3.2 warns about Signal(providing_args=...) in rest_hooks.signals

    import django
    import requests
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        SECRET_KEY="bench",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tmp, "db.sqlite3")}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_hooks"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        HOOK_EVENTS={EVENT: None},  # a raw custom event, fired by hand
        HOOK_THREADING=not args.sync,
    )
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from django.contrib.auth.models import User
    from rest_hooks import models as hook_models
    from rest_hooks.signals import raw_hook_event

    user = User.objects.create(username="bench")
    hook_models.Hook.objects.create(user=user, event=EVENT, target=args.target)

    # Count finished deliveries at the requests level (the library ignores responses and counts nothing reliably).
    lock = threading.Lock()
    stats = {"ok": 0, "errors": 0, "last": None}
    original = requests.Session.request

    def counted(self, *a, **kw):
        kw.setdefault("timeout", 5)  # the library posts without a timeout; keep every request bounded
        try:
            response = original(self, *a, **kw)
        except Exception:
            with lock:
                stats["errors"] += 1
            raise
        with lock:
            if 200 <= response.status_code < 300:
                stats["ok"] += 1
                stats["last"] = time.perf_counter()
            else:
                stats["errors"] += 1
        return response

    requests.Session.request = counted
    threading.excepthook = lambda _args: None  # a failed post kills a library worker; it is counted above

    pad = max(0, args.payload_bytes - len(json.dumps({"seq": 0, "kind": "bench", "pad": ""})))
    size = len(json.dumps({"seq": 0, "kind": "bench", "pad": "x" * pad}))
    client = hook_models.client
    start = time.perf_counter()
    deadline = start + args.seconds
    fired = 0
    while fired < args.count and time.perf_counter() < deadline:
        payload = {"seq": fired, "kind": "bench", "pad": "x" * pad}
        try:
            raw_hook_event.send(sender=None, event_name=EVENT, payload=payload, user=user)
        except requests.RequestException:
            pass  # --sync: counted as an error above
        fired += 1
    if not args.sync:  # wait, at most until the deadline, for the library's threads to drain its queue
        while time.perf_counter() < deadline:
            if not client.queue and not any(t.is_alive() for t in client.flush_threads):
                break
            client.refresh_threads()  # a worker that quits just as an event is queued can strand it
            time.sleep(0.002)
        client.queue.clear()
    with lock:
        ok, errors, last = stats["ok"], stats["errors"], stats["last"]
    elapsed = ((last or start) - start) if ok else time.perf_counter() - start
    emit(
        {
            "available": True,
            "deliveries": ok,
            "seconds": round(elapsed, 4),
            "per_second": round(ok / elapsed, 1) if ok and elapsed > 0 else 0.0,
            "django": django.get_version(),
            "rest_hooks": "1.5.0",
            "threading": not args.sync,
            "fired": fired,
            "errors": errors,
            "payload_bytes": size,
        }
    )
    for t in getattr(client, "flush_threads", []):
        t.join(timeout=max(0.0, deadline + 5 - time.perf_counter()))


def main():
    args = parse_args()
    if os.environ.get(INNER_FLAG) != "1":
        return outside()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drh-bench-") as tmp:
        inside(args, tmp)
    sys.stdout.flush()
    os._exit(0)  # never hang on a library worker thread stuck in a post


if __name__ == "__main__":
    main()
