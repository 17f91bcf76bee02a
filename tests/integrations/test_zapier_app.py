"""The Zapier app (integrations/zapier) passes its own tests, run by npm against a live connector."""

import os
import subprocess
import time


def test_the_zapier_apps_tests_pass_against_a_live_connector(zapier_app_installed, live_server):
    env = {
        **os.environ,
        "CONNECTOR_URL": live_server.url,
        "CONNECTOR_API_KEY": live_server.tenant.key,
        "CONNECTOR_ACCOUNT": live_server.tenant.name,
    }
    started = time.monotonic()
    result = subprocess.run(
        ["npm", "test", "--silent"], cwd=zapier_app_installed, env=env, capture_output=True, text=True, timeout=300
    )
    output = f"npm test ({time.monotonic() - started:.1f} s):\n{result.stdout}\n{result.stderr}"
    print(output)  # shown by pytest -s or -rP
    assert result.returncode == 0, output
    assert " passing" in result.stdout and " failing" not in result.stdout, output
