"""The ingest fast path (plain WSGI, SQLite) answers and stores exactly what the Flask view does,
and leaves every other request to Flask."""

import base64

import pytest
from sqlalchemy import select

from connector.models import Delivery, Event

pytestmark = pytest.mark.sqlite_only

EVENT = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 7, "product": "回数券"}}


@pytest.fixture
def flask_calls(app):
    """How many requests reached Flask's own handling."""
    calls = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: calls.append(1) and None)  # before auth
    return calls


def basic(tenant):
    return {"Authorization": "Basic " + base64.b64encode(f"{tenant.name}:{tenant.key}".encode()).decode()}


def stored(app):
    with app.extensions["connector.db"].session() as session:
        events = [(e.object, e.event, e.role, e.data) for e in session.scalars(select(Event).order_by(Event.seq))]
        deliveries = [(d.trigger, d.status, d.attempts) for d in session.scalars(select(Delivery))]
    return events, deliveries


@pytest.mark.parametrize(
    "path, body", [("/api/v1/events", EVENT), ("/api/v1/events/batch", [EVENT, {**EVENT, "data": {"id": 8}}])]
)
def test_both_paths_answer_and_store_the_same(app, client, tenant, webhook_receiver, flask_calls, path, body):
    client.post("/api/v1/hooks", json={"target_url": webhook_receiver.url(), "trigger": "purchase"}, headers=tenant.headers)
    flask_calls.clear()
    fast = client.post(path, json=body, headers=tenant.headers)
    assert flask_calls == [], "taken before Flask"
    after_fast = stored(app)
    slow = client.post(path, json=body, headers=basic(tenant))  # HTTP Basic: Flask's path
    assert flask_calls == [1]
    assert (fast.status_code, fast.content_type) == (slow.status_code, slow.content_type) == (202, "application/json")

    def shape(answer):
        return {k: (v if k != "id" and k != "events" else None) for k, v in answer.items()}

    assert shape(fast.json) == shape(slow.json)
    events, deliveries = stored(app)
    half = len(events) // 2
    assert events[:half] == events[half:] == after_fast[0]
    assert len(deliveries) == 2 * len(after_fast[1])


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Authorization": "Bearer ck_nope"}, EVENT, 401),
        (None, {**EVENT, "role": 99}, 422),
        (None, {**EVENT, "occurred_at": "2026-11-29T10:00:00+09:00"}, 202),  # a time to parse: the schema's job
        (None, {**EVENT, "extra": 1}, 422),
        ({"Idempotency-Key": "k1"}, EVENT, 202),
    ],
)
def test_everything_else_goes_to_flask(app, client, tenant, flask_calls, headers, body, status):
    response = client.post("/api/v1/events", json=body, headers={**tenant.headers, **(headers or {})})
    assert response.status_code == status
    assert flask_calls == [1]


def test_an_oversized_body_goes_to_flask_and_gets_its_413(app, client, tenant, flask_calls):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/api/v1/events", json={**EVENT, "data": {"note": "x" * 200}}, headers=tenant.headers)
    assert response.status_code == 413 and "CONNECTOR_MAX_CONTENT_LENGTH" in response.json["message"]
    assert stored(app) == ([], [])
