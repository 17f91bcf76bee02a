"""Account B's key against account A's resources, on every operation of the API: never A's data.

The walk is driven by the OpenAPI document, so a new operation is covered the day it is added
(and the test asks for a request body for it if it needs one).
"""

import json
import re

import pytest
from sqlalchemy import select

from connector.models import Delivery, Hook
from tests.conftest import make_tenant

MARKER = "A-ONLY-田中-7f3e"  # in A's event data: must never reach B

#: A valid body per operation, so that B's request fails on ownership and not on validation.
BODIES = {
    ("post", "/api/v1/hooks"): lambda a: {"target_url": "https://b.example/hook", "trigger": "purchase"},
    ("patch", "/api/v1/hooks/{hook_id}"): lambda a: {"status": "paused", "target_url": "https://b.example/x"},
    ("post", "/api/v1/hooks/{hook_id}/test"): lambda a: {},
    ("post", "/api/v1/hooks/{hook_id}/rotate-secret"): lambda a: {"grace_seconds": 0},
    ("post", "/api/v1/hooks/{hook_id}/recover"): lambda a: {"since": "2000-01-01T00:00:00Z"},
    ("post", "/api/v1/events"): lambda a: {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 2}},
    ("post", "/api/v1/events/batch"): lambda a: [{"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 3}}],
    ("post", "/api/v1/deliveries/{delivery_id}/retry"): lambda a: {},
    ("put", "/api/v1/reminder-rules"): lambda a: {"timezone": "UTC", "rules": [{"event": "reminder", "offset_minutes": 60}]},
    ("post", "/api/hooks"): lambda a: {"event": "P", "parent_id": 0, "target_url": "https://b.example/ss"},
    ("delete", "/api/hooks"): lambda a: {"id": a["hook_id"], "parent_id": 0},
}
BOOKING = "A-BOOKING-1"


@pytest.fixture
def world(app, client, webhook_receiver):
    a, b = make_tenant(app, "studio-a"), make_tenant(app, "studio-b")
    created = client.post(
        "/api/v1/hooks", json={"target_url": webhook_receiver.url("/a"), "trigger": "purchase"}, headers=a.headers
    ).json
    event = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1, "note": MARKER}}
    published = client.post("/api/v1/events", json=event, headers=a.headers).json
    client.post("/api/v1/hooks", json={"target_url": "https://b.example/own", "trigger": "purchase"}, headers=b.headers)
    rules = {"timezone": "Asia/Tokyo", "rules": [{"event": "reminder", "offset_minutes": 1441}]}
    assert client.put("/api/v1/reminder-rules", json=rules, headers=a.headers).status_code == 200
    booking = {"id": BOOKING, "start": "2099-01-01T10:00:00+09:00", "finish": "2099-01-01T11:00:00+09:00", "note": MARKER}
    appointment = {"object": "appointment", "event": "create", "role": 3, "data": booking}
    assert client.post("/api/v1/events", json=appointment, headers=a.headers).status_code == 202
    assert client.get(f"/api/v1/reminders?booking_id={BOOKING}", headers=a.headers).json, "A has a pending reminder"
    with app.extensions["connector.db"].session() as session:
        delivery = session.scalar(select(Delivery).where(Delivery.hook_id == created["id"]))
    return {
        "a": a,
        "b": b,
        "hook_id": created["id"],
        "secret": created["secret"],
        "target_url": created["target_url"],
        "event_id": published["id"],
        "delivery_id": delivery.id,
    }


def operations(client):
    spec = client.get("/openapi.json").json
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):  # /api/v1 and SuperSaaS's /api/hooks: everything a key opens
            continue
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


def request_for(method, path, op, w):
    """B's request: A's ids in every path and query parameter that names a resource."""
    values = {
        "hook_id": w["hook_id"],
        "id": w["hook_id"],
        "booking_id": BOOKING,
        "delivery_id": w["delivery_id"],
        "event_id": w["event_id"],
        "after": w["event_id"],
        "target_url": w["target_url"],
        "key": "purchase",
        "trigger": "purchase",
    }
    url = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)
    query = {p["name"]: values[p["name"]] for p in op.get("parameters", []) if p["in"] == "query" and p["name"] in values}
    body = None
    if "requestBody" in op:
        assert (method, path) in BODIES, f"add a valid body for {method.upper()} {path} to BODIES"
        body = BODIES[(method, path)](w)
    return url, query, body


def test_b_never_reaches_a(app, client, world, webhook_receiver):
    w = world
    a_secrets = [w["secret"], MARKER, w["a"].key]
    walked = 0
    for method, path, op in operations(client):
        url, query, body = request_for(method, path, op, w)
        response = client.open(url, method=method.upper(), query_string=query, json=body, headers=w["b"].headers)
        text = response.get_data(as_text=True)
        where = f"{method.upper()} {path}"
        assert response.status_code < 500, f"{where}: {text}"
        assert response.status_code not in (401, 422), f"{where} failed before the ownership check: {text}"
        sent = json.dumps([url, query, body])
        for value in [*a_secrets, w["hook_id"], w["delivery_id"], w["event_id"], w["target_url"]]:
            if value not in sent:
                assert value not in text, f"{where} showed B something of A's: {value!r}"
        if "{hook_id}" in path or "{delivery_id}" in path:
            assert response.status_code == 404, f"{where} with A's id: {response.status_code}"
        if method == "get" and response.status_code == 200 and isinstance(response.json, list):
            assert all(w["event_id"] != item.get("event_id") for item in response.json), where
        walked += 1
    assert walked >= 24

    # A's world is as it was: nothing paused, rotated, retried, sent or deleted by B.
    assert webhook_receiver.received() == []
    with app.extensions["connector.db"].session() as session:
        hook = session.get(Hook, w["hook_id"])
        assert (hook.status, hook.secret, hook.target_url) == ("active", w["secret"], w["target_url"])
        delivery = session.get(Delivery, w["delivery_id"])
        assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert client.get(f"/api/v1/hooks/{w['hook_id']}", headers=w["a"].headers).status_code == 200
    rules = client.get("/api/v1/reminder-rules", headers=w["a"].headers).json
    assert (rules["timezone"], rules["rules"][0]["offset_minutes"]) == ("Asia/Tokyo", 1441)


def test_lists_show_only_the_callers_rows(client, world):
    w = world
    for url in (
        "/api/v1/hooks",
        "/api/v1/deliveries",
        "/api/v1/events?trigger=purchase",
        "/api/v1/triggers/purchase/samples",
        "/api/v1/triggers/new_appointment/samples",
        "/api/v1/reminders",
    ):
        mine = client.get(url, headers=w["a"].headers).get_data(as_text=True)
        theirs = client.get(url, headers=w["b"].headers).get_data(as_text=True)
        assert any(v in mine for v in (MARKER, w["hook_id"], w["delivery_id"], BOOKING)), f"A sees its own rows in {url}"
        for value in (MARKER, w["hook_id"], w["delivery_id"], BOOKING):
            assert value not in theirs, url


def test_hook_secrets_are_shown_only_when_made(client, world):
    w = world
    for url in ("/api/v1/hooks", f"/api/v1/hooks/{w['hook_id']}"):
        text = client.get(url, headers=w["a"].headers).get_data(as_text=True)
        assert w["secret"] not in text and '"secret"' not in text, url
