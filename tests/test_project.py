"""The project's own promises: CI runs the README's test command, and the code is ruff clean."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts: str) -> str:
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def test_ci_runs_the_readmes_test_command():
    commands = re.findall(r"```sh\n(python3 -m venv[^\n]+)\n```", _read("README.md"))
    assert len(commands) == 2, "the quick start is exactly two commands"
    assert "demo" in commands[0] and "pytest" in commands[1]
    assert commands[1] in _read(".ci", "run")


def test_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "connector", "tests", "migrations", "bench", "wsgi.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_delivery_engine_imports_no_flask():
    code = (
        "import sys; import connector.delivery.dispatcher, connector.delivery.store, connector.delivery.transport; "
        "import connector.delivery.signing, connector.delivery.retry; "
        "assert 'flask' not in sys.modules, sorted(m for m in sys.modules if m.startswith('flask'))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
