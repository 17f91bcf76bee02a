"""JSON log lines: one per attempt, with ids, status and duration; never a secret, a key or a URL."""

import json
import logging

import pytest

from connector import create_app, logs, observe
from connector.delivery.jobs import Job
from connector.delivery.transport import AttemptResult
from connector.services import utcnow
from tests.conftest import make_tenant
from tests.receiver import Answer, wait_until


class Lines(logging.Handler):
    """Collects what the JSON formatter makes of each record."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def attempt_lines():
    handler = Lines()
    log = observe.attempt_log
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield handler.lines
    log.removeHandler(handler)
    log.setLevel(old_level)


def test_one_json_line_per_attempt_and_nothing_secret(live_app, webhook_receiver, attempt_lines):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    url = webhook_receiver.url("/hook?token=zap-abc123")
    webhook_receiver.script("/hook?token=zap-abc123", Answer(503))
    hook = client.post("/api/v1/hooks", json={"target_url": url, "trigger": "purchase"}, headers=tenant.headers).json
    published = client.post(
        "/api/v1/events", json={"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 7}}, headers=tenant.headers
    ).json
    wait_until(lambda: len(attempt_lines) >= 2, what="two attempt lines")
    records = [json.loads(line) for line in attempt_lines]
    delivery_id = client.get("/api/v1/deliveries", headers=tenant.headers).json[0]["id"]
    assert [(r["status"], r["outcome"], r["attempt"]) for r in records] == [(503, "retry", 1), (200, "succeeded", 2)]
    for r in records:
        assert r["logger"] == "connector.attempts" and r["level"] == "info"
        assert r["delivery_id"] == delivery_id and r["hook_id"] == hook["id"]
        assert isinstance(r["duration_ms"], int) and r["duration_ms"] >= 0
        assert r["ts"].endswith("Z")
    everything = "\n".join(attempt_lines)
    for secret in (hook["secret"], tenant.key, "zap-abc123", url, published["id"]):
        assert secret not in everything


def test_an_error_text_keeps_only_the_host_of_a_url(attempt_lines):
    job = Job("msg_1", "hook_1", "https://hooks.example.com/x?token=t0p", b"{}", ("whsec_x",), 0)
    result = AttemptResult(
        utcnow(), 12, 302, "redirect not followed: 302 to https://user:pw@evil.example/path?key=leak", b"", None
    )
    observe.attempts([(job, result)], ["retry"])
    record = json.loads(attempt_lines[-1])
    assert record["error"] == "redirect not followed: 302 to https://evil.example/…"
    assert "leak" not in attempt_lines[-1] and "pw" not in attempt_lines[-1] and "t0p" not in attempt_lines[-1]


def test_log_format_json_installs_one_handler(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        for _ in range(2):
            create_app(
                {
                    "TESTING": True,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'l.sqlite'}",
                    "DISPATCHER": False,
                    "LOG_FORMAT": "json",
                    "LOG_LEVEL": "warning",
                }
            ).extensions["connector.db"].dispose()
        added = [h for h in root.handlers if h not in before]
        assert [h.get_name() for h in added] == [logs.HANDLER_NAME]
        assert isinstance(added[0].formatter, logs.JsonFormatter) and root.level == logging.WARNING
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("now",), None)
        line = json.loads(added[0].formatter.format(record))
        assert line["message"] == "boom now" and line["level"] == "error" and line["logger"] == "x"
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)


def test_text_format_is_the_default(app):
    assert app.config["LOG_FORMAT"] == "text"
    assert not any(h.get_name() == logs.HANDLER_NAME for h in logging.getLogger().handlers)
