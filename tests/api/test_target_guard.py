"""The SSRF guard through the API: refused at subscribe (422, the reason named), and again at delivery."""

import socket

import pytest
from sqlalchemy import select

from connector import background
from connector.delivery import guard as guard_module
from connector.models import Attempt, Delivery
from tests.conftest import app_with, make_tenant
from tests.receiver import wait_until

BLOCKED_URLS = [
    ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
    ("http://2130706433:8080/hook", "127.0.0.1 is a loopback address"),
    ("http://0177.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:8080/hook", "a loopback address (IPv4 127.0.0.1)"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00::1]/hook", "unique-local"),
    ("http://[::]/hook", "unspecified"),
    ("http://10.0.0.1/hook", "private"),
    ("http://localhost:8080/hook", "localhost resolves to 127.0.0.1, a loopback address"),
    ("https://example.com:22/hook", "port 22 is not allowed"),
]


@pytest.fixture
def strict_app(tmp_path, migrated_template):
    """An app with the guard's defaults (no allow-list)."""
    app = app_with(
        tmp_path / "strict.sqlite", migrated_template, POLL_INTERVAL=0.05, RETRY_SCHEDULE="[0.05, 0.05]", RETRY_JITTER=0.0
    )
    yield app
    app.extensions["connector.db"].dispose()


@pytest.fixture
def strict_live_app(strict_app):
    """The same with its dispatcher running."""
    background.start(strict_app)
    yield strict_app
    background.stop(strict_app, timeout=2)


@pytest.fixture
def dns(monkeypatch):
    """A scripted resolver in place of the system's for the names it knows."""
    answers: dict[str, list[str]] = {}
    system = guard_module._system_lookup

    def lookup(host, port):
        if host in answers:
            return list(answers[host])
        if host.endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return system(host, port)

    monkeypatch.setattr(guard_module, "_system_lookup", lookup)
    return answers


def hooks_of(client, tenant):
    return client.get("/api/v1/hooks", headers=tenant.headers).json


@pytest.mark.parametrize("url, reason", BLOCKED_URLS)
def test_subscribe_refuses_inside_targets(strict_app, url, reason):
    client, tenant = strict_app.test_client(), make_tenant(strict_app, "studio")
    response = client.post("/api/v1/hooks", json={"target_url": url, "trigger": "new_user"}, headers=tenant.headers)
    assert response.status_code == 422, response.json
    assert reason in response.json["errors"]["target_url"]
    assert reason in response.json["message"] and "CONNECTOR_TARGET_" in response.json["message"]
    assert hooks_of(client, tenant) == []


def test_patch_refuses_inside_targets_and_changes_nothing(strict_app):
    client, tenant = strict_app.test_client(), make_tenant(strict_app, "studio")
    hook = client.post(
        "/api/v1/hooks", json={"target_url": "https://93.184.216.34/hook", "trigger": "new_user"}, headers=tenant.headers
    ).json
    response = client.patch(f"/api/v1/hooks/{hook['id']}", json={"target_url": "http://10.0.0.1/"}, headers=tenant.headers)
    assert response.status_code == 422 and "10.0.0.1 is a private address" in response.json["errors"]["target_url"]
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["target_url"] == "https://93.184.216.34/hook"


def test_an_unresolvable_name_is_accepted_at_subscribe(strict_app, dns):
    client, tenant = strict_app.test_client(), make_tenant(strict_app, "studio")
    response = client.post(
        "/api/v1/hooks", json={"target_url": "https://later.example/hook", "trigger": "new_user"}, headers=tenant.headers
    )
    assert response.status_code == 201


def test_the_allow_list_accepts_loopback(client, tenant):
    """The test apps allow 127.0.0.0/8 and ::1 (conftest), as the demo does."""
    for url in ("http://127.0.0.1:8080/hook", "http://[::1]:8080/hook", "http://localhost:8080/hook"):
        response = client.post("/api/v1/hooks", json={"target_url": url, "trigger": "new_user"}, headers=tenant.headers)
        assert response.status_code == 201, response.json
    private = {"target_url": "http://10.0.0.1/", "trigger": "new_user"}
    assert client.post("/api/v1/hooks", json=private, headers=tenant.headers).status_code == 422


def rebinding_hook(strict_app, dns, receiver):
    """A hook on a name that answered a public address at subscribe and answers 127.0.0.1 afterwards."""
    client, tenant = strict_app.test_client(), make_tenant(strict_app, "studio")
    dns["rebind.example"] = ["93.184.216.34"]
    url = f"http://rebind.example:{receiver.port}/hook"
    response = client.post("/api/v1/hooks", json={"target_url": url, "trigger": "purchase"}, headers=tenant.headers)
    assert response.status_code == 201, response.json
    dns["rebind.example"] = ["127.0.0.1"]
    return client, tenant, response.json


REASON = "blocked by the SSRF guard: rebind.example resolves to 127.0.0.1, a loopback address"


def test_delivery_time_rebinding_fails_the_attempt_and_reaches_nothing(strict_live_app, dns, webhook_receiver):
    strict_app = strict_live_app
    client, tenant, hook = rebinding_hook(strict_app, dns, webhook_receiver)
    event = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1}}
    assert client.post("/api/v1/events", json=event, headers=tenant.headers).json["deliveries"] == 1

    def attempts():
        with strict_app.extensions["connector.db"].session() as session:
            return session.scalars(select(Attempt).order_by(Attempt.id)).all()

    # Retried like any failure that had no answer: every attempt is checked again, and refused.
    wait_until(lambda: len(attempts()) == 3, what="three attempts")
    assert all(a.error.startswith(REASON) and a.status_code is None for a in attempts())
    with strict_app.extensions["connector.db"].session() as session:
        delivery = session.scalars(select(Delivery)).one()
    wait_until(lambda: client.get(f"/api/v1/deliveries/{delivery.id}", headers=tenant.headers).json["status"] == "failed")
    assert webhook_receiver.received() == []


def test_the_test_endpoint_is_guarded_too(strict_app, dns, webhook_receiver):
    client, tenant, hook = rebinding_hook(strict_app, dns, webhook_receiver)
    response = client.post(f"/api/v1/hooks/{hook['id']}/test", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json["attempt"]["error"].startswith(REASON)
    assert response.json["attempt"]["status_code"] is None
    assert webhook_receiver.received() == []


def test_the_demo_lets_hooks_reach_this_machine(strict_app):
    output = strict_app.test_cli_runner().invoke(args=["demo", "--no-serve"]).output
    assert "127.0.0.0/8,::1/128 (CONNECTOR_TARGET_ALLOWLIST)" in output
    assert strict_app.config["TARGET_ALLOWLIST"] == "127.0.0.0/8,::1/128"


def test_an_operator_allow_list_is_kept_by_the_demo(app):
    app.config["TARGET_ALLOWLIST"] = "10.0.0.0/8"
    app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert app.config["TARGET_ALLOWLIST"] == "10.0.0.0/8"


@pytest.mark.parametrize(
    "setting, value, words",
    [
        ("TARGET_ALLOWLIST", "127.0.0.0/8,nonsense", "CONNECTOR_TARGET_ALLOWLIST: 'nonsense' is not a network"),
        ("TARGET_PORTS", "443,ssh", "CONNECTOR_TARGET_PORTS: 'ssh' is not a port"),
        ("RATE_LIMIT_INGEST", "2/day", "CONNECTOR_RATE_LIMIT_INGEST: '2/day' is not a rate"),
        ("RATE_LIMIT_API", "lots", "CONNECTOR_RATE_LIMIT_API: 'lots' is not a rate"),
    ],
)
def test_a_bad_setting_stops_the_start_named(tmp_path, migrated_template, setting, value, words):
    with pytest.raises(ValueError, match=words):
        app_with(tmp_path / "bad.sqlite", migrated_template, **{setting: value})
