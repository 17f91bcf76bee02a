"""A live connector on 127.0.0.1 (real HTTP, dispatcher running) and the Zapier app's npm packages."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from tests.conftest import Tenant, make_tenant

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZAPIER_APP = os.path.join(ROOT, "integrations", "zapier")


@dataclass
class LiveServer:
    app: object
    url: str
    tenant: Tenant


@pytest.fixture
def live_server(live_app):
    """The live app (dispatcher running) serving HTTP on a free port of 127.0.0.1.

    Targets on 127.0.0.1 must stay reachable: the allow-list is set as DESIGN.md §8 says tests set it.
    """
    live_app.config["TARGET_ALLOWLIST"] = "127.0.0.0/8,::1/128"
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(live_app, f"http://127.0.0.1:{server.server_port}", make_tenant(live_app, "yoga-shibuya"))
    server.shutdown()


def npm_ci(project: str) -> None:
    """`npm ci` from the committed package-lock.json, skipped while node_modules matches it.

    Downloads are cached under .cache/npm-cache (git-ignored), so a second clean install is offline-fast.
    """
    with open(os.path.join(project, "package-lock.json"), "rb") as f:
        lock_hash = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(project, "node_modules", ".connector-lock-sha256")
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as f:
            if f.read() == lock_hash:
                return
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--cache", os.path.join(ROOT, ".cache", "npm-cache")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"npm ci failed in {project}:\n{result.stdout}\n{result.stderr}"
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(lock_hash)


@pytest.fixture(scope="session")
def zapier_app_installed():
    npm_ci(ZAPIER_APP)
    return ZAPIER_APP
