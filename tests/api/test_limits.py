"""Every limit answers a clear 4xx that names it, and changes nothing."""

import pytest
from sqlalchemy import func, select

from connector import background
from connector.models import Event, Hook
from tests.api.test_errors import assert_error
from tests.receiver import Answer

EVENT = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1}}


def count(app, model):
    with app.extensions["connector.db"].session() as session:
        return session.scalar(select(func.count()).select_from(model))


def subscribe(client, tenant, url="https://93.184.216.34/hook", **extra):
    return client.post("/api/v1/hooks", json={"target_url": url, "trigger": "purchase", **extra}, headers=tenant.headers)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/events", {**EVENT, "data": {"note": "x" * 2000}}),
        ("/api/v1/events/batch", [EVENT] * 40),
        ("/api/v1/hooks", {"target_url": "https://93.184.216.34/h", "trigger": "purchase", "filters": {"a": "x" * 2000}}),
    ],
)
def test_request_body_limit(app, client, tenant, path, body):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(path, json=body, headers=tenant.headers)
    assert_error(response, 413, "request body over 1000 bytes", "CONNECTOR_MAX_CONTENT_LENGTH")
    assert count(app, Event) == 0 and count(app, Hook) == 0


def test_batch_limit(app, client, tenant):
    app.config["MAX_BATCH_EVENTS"] = 2
    response = client.post("/api/v1/events/batch", json=[EVENT] * 3, headers=tenant.headers)
    assert_error(response, 422, "1 to 2 events", "CONNECTOR_MAX_BATCH_EVENTS")
    assert count(app, Event) == 0
    assert client.post("/api/v1/events/batch", json=[EVENT] * 2, headers=tenant.headers).status_code == 202


@pytest.mark.parametrize(
    "setting, value, filters, words",
    [
        ("MAX_FILTER_CONDITIONS", 2, {"a": 1, "b": 2, "c": 3}, ["at most 2 conditions", "CONNECTOR_MAX_FILTER_CONDITIONS"]),
        ("MAX_FILTER_DEPTH", 3, {"form.content.a.b": 1}, ["at most 3 levels", "CONNECTOR_MAX_FILTER_DEPTH"]),
        ("MAX_FILTER_VALUES", 3, {"status": [1, 2, 3, 4]}, ["at most 3 values", "CONNECTOR_MAX_FILTER_VALUES"]),
        ("MAX_FILTER_VALUES", 3, {"status": {"in": [1, 2, 3, 4]}}, ["at most 3 values", "CONNECTOR_MAX_FILTER_VALUES"]),
        ("MAX_FILTER_BYTES", 100, {"res_name": "x" * 100}, ["at most 100 bytes", "CONNECTOR_MAX_FILTER_BYTES"]),
    ],
)
def test_filter_limits(app, client, tenant, setting, value, filters, words):
    app.config[setting] = value
    assert_error(subscribe(client, tenant, filters=filters), 422, "filters", *words)
    assert count(app, Hook) == 0


def test_filter_limits_hold_at_their_edge(app, client, tenant):
    app.config.update(MAX_FILTER_CONDITIONS=2, MAX_FILTER_DEPTH=3, MAX_FILTER_VALUES=3)
    assert subscribe(client, tenant, filters={"form.content.a": {"in": [1, 2, 3]}, "b": [1, 2, 3]}).status_code == 201


def test_filter_limits_apply_to_filter_inputs_and_to_patch(app, client, tenant):
    app.config["MAX_FILTER_VALUES"] = 1
    inputs = {"event": ["place", "edit"]}
    body = {"target_url": "https://93.184.216.34/h", "trigger": "changed_appointment", "filter_inputs": inputs}
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert_error(response, 422, "at most 1 values")
    hook = subscribe(client, tenant).json
    response = client.patch(f"/api/v1/hooks/{hook['id']}", json={"filters": {"id": [1, 2]}}, headers=tenant.headers)
    assert_error(response, 422, "at most 1 values")
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["filters"] == {}


def test_target_url_length_limit_names_the_setting(app, client, tenant):
    app.config["MAX_TARGET_URL_LENGTH"] = 30
    assert_error(subscribe(client, tenant, url="https://93.184.216.34/" + "a" * 10), 422, "at most 30", "MAX_TARGET_URL_LENGTH")
    assert count(app, Hook) == 0


def test_hooks_per_account_limit(app, client, tenant, other_tenant):
    app.config["MAX_HOOKS_PER_ACCOUNT"] = 2
    first = subscribe(client, tenant).json
    subscribe(client, tenant)
    response = subscribe(client, tenant)
    assert_error(response, 409, "the most allowed", "CONNECTOR_MAX_HOOKS_PER_ACCOUNT is 2")
    assert count(app, Hook) == 2
    assert subscribe(client, other_tenant).status_code == 201  # per account
    client.delete(f"/api/v1/hooks/{first['id']}", headers=tenant.headers)
    assert subscribe(client, tenant).status_code == 201  # an unsubscribed hook no longer counts


def test_captured_response_size(app, client, tenant, webhook_receiver):
    app.config["MAX_RESPONSE_BYTES"] = 10
    webhook_receiver.defaults["/hook"] = Answer(body=b"0123456789" * 100)
    hook = subscribe(client, tenant, url=webhook_receiver.url()).json
    attempt = client.post(f"/api/v1/hooks/{hook['id']}/test", headers=tenant.headers).json["attempt"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "0123456789"
    assert background.make_dispatcher(app).settings.max_response_bytes == 10  # the dispatcher's cap too
