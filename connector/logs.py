"""Logs as JSON lines (CONNECTOR_LOG_FORMAT=json): one object per record, on stderr.

Every record becomes {"ts", "level", "logger", "message", ...its extra fields}; the
delivery engine writes one per attempt (observe.py) with the delivery id, hook id,
status, outcome and duration. Nothing secret is ever passed to a log record: no key,
no signing secret, no target URL, no payload.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import Flask

# The attributes every LogRecord has; anything else on a record came in as `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
HANDLER_NAME = "connector-json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def init_logging(app: Flask) -> None:
    """With LOG_FORMAT=json, the root logger writes JSON lines at LOG_LEVEL (once per process)."""
    if str(app.config["LOG_FORMAT"]).lower() != "json":
        return
    root = logging.getLogger()
    root.setLevel(str(app.config["LOG_LEVEL"]).upper())
    if any(h.get_name() == HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    # Flask's own handler would print the app's records a second time, as text.
    app.logger.handlers.clear()
