"""A live connector on 127.0.0.1 (real HTTP, dispatcher running) and the Zapier app's npm packages."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from connector import background, create_app
from tests.conftest import Tenant, make_tenant

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZAPIER_APP = os.path.join(ROOT, "integrations", "zapier")


@dataclass
class LiveServer:
    app: object
    url: str
    tenant: Tenant


@pytest.fixture
def live_server(tmp_path, migrated_template):
    """The connector serving HTTP on a free port of 127.0.0.1, delivering to 127.0.0.1 only."""
    db_file = tmp_path / "live.sqlite"
    shutil.copy(migrated_template, db_file)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{db_file}",
            "AUTO_MIGRATE": False,
            "DISPATCHER": False,
            "TARGET_ALLOWLIST": "127.0.0.0/8,::1/128",
            "POLL_INTERVAL": 0.05,
            "RETRY_SCHEDULE": "[0.05, 0.05, 0.05]",
            "RETRY_JITTER": 0.0,
            "DELIVERY_TIMEOUT": 2.0,
        }
    )
    background.start(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", make_tenant(app, "yoga-shibuya"))
    server.shutdown()
    background.stop(app, timeout=2)
    app.extensions["connector.db"].dispose()


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
