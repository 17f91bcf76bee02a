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
        [sys.executable, "-m", "ruff", "check", "connector", "tests", "migrations", "wsgi.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
