"""Generated files as {relative path: text}: written by the CLI, compared by the tests."""

from __future__ import annotations

import json
import os
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dump(value: Any) -> str:
    """JSON as the generated files keep it: two-space indent, UTF-8 as it is, a final newline."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def stale(files: dict[str, str], root: str = ROOT) -> list[str]:
    """The paths whose committed text differs from the generated one (missing files included)."""
    changed = []
    for path, text in files.items():
        full = os.path.join(root, path)
        if not os.path.exists(full):
            changed.append(path)
            continue
        with open(full, encoding="utf-8") as f:
            if f.read() != text:
                changed.append(path)
    return changed


def write(files: dict[str, str], root: str = ROOT) -> list[str]:
    """Write the files that changed; returns their paths."""
    changed = stale(files, root)
    for path in changed:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(files[path])
    return changed
