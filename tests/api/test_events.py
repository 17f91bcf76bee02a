"""Publishing: validation, routing to triggers and matching hooks, idempotency, batches, polling."""

import pytest
from sqlalchemy import func, select

from connector.models import Delivery, Event

BOOKING = {"id": 81723, "res_name": "Ms. Tanaka", "price": "6000.00", "status": 2, "full_name": "佐藤 花子"}


def publish(client, tenant, body, status=202, **headers):
    response = client.post("/api/v1/events", json=body, headers={**tenant.headers, **headers})
    assert response.status_code == status, response.json
    return response.json


def subscribe(client, tenant, trigger, filters=None, url="https://example.com/hook"):
    body = {"target_url": url, "trigger": trigger, "filters": filters}
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def count(app, model):
    with app.extensions["connector.db"].session() as session:
        return session.scalar(select(func.count()).select_from(model))


def deliveries_by_hook(app):
    with app.extensions["connector.db"].session() as session:
        rows = session.execute(select(Delivery.hook_id, func.count()).group_by(Delivery.hook_id)).all()
    return dict(rows)


def test_a_create_reaches_new_and_changed_appointment(app, client, tenant):
    new = subscribe(client, tenant, "new_appointment")
    changed = subscribe(client, tenant, "changed_appointment")
    subscribe(client, tenant, "new_user")
    answer = publish(client, tenant, {"object": "appointment", "event": "create", "role": 3, "data": BOOKING})
    assert answer["id"].startswith("evt_")
    assert answer["triggers"] == ["new_appointment", "changed_appointment"]
    assert answer["deliveries"] == 2
    assert deliveries_by_hook(app) == {new: 1, changed: 1}


@pytest.mark.parametrize(
    "obj, event, data, triggers",
    [
        ("user", "new", {"id": 1, "role": 3}, ["new_user", "changed_user"]),
        ("user", "delete", {"id": 1}, ["changed_user"]),
        ("appointment", "place", BOOKING, ["changed_appointment"]),
        ("form", "new", {"id": 5, "reservation_process_id": None}, ["new_form", "changed_form"]),
        ("form", "change", {"id": 5, "reservation_process_id": 81723}, ["changed_appointment"]),
        ("email", "sent", {"to": "a@example.jp", "subject": "件名"}, ["email_sent"]),
        ("reminder", "follow_up", BOOKING, ["reminder"]),
        ("purchase", "purchase", {"id": 3, "price": "18000.00"}, ["purchase"]),
    ],
)
def test_routing(client, tenant, obj, event, data, triggers):
    answer = publish(client, tenant, {"object": obj, "event": event, "role": 3, "data": data})
    assert answer["triggers"] == triggers and answer["deliveries"] == 0


def test_an_attached_form_is_a_booking_edit(client, tenant):
    form = {"id": 4410, "super_form_id": 12, "reservation_process_id": 81723, "content": {"ヨガ経験": "なし"}}
    publish(client, tenant, {"object": "form", "event": "new", "role": 3, "data": form})
    payload = client.get("/api/v1/events?trigger=changed_appointment", headers=tenant.headers).json[0]
    assert payload["id"] == 81723 and payload["event"] == "edit" and payload["form"] == form
    assert client.get("/api/v1/events?trigger=new_form", headers=tenant.headers).json == []


def test_the_seeds_filter_examples(app, client, tenant):
    place = subscribe(client, tenant, "changed_appointment", {"event": "place"})
    tanaka = subscribe(client, tenant, "changed_appointment", {"res_name": "Ms. Tanaka"})
    pricey = subscribe(client, tenant, "changed_appointment", {"price": {"gte": 5000}})
    refunded = subscribe(client, tenant, "changed_appointment", {"status": 35})
    events = [
        ("place", {**BOOKING, "price": "3000.00"}),  # off the waiting list: place, tanaka
        ("edit", {**BOOKING, "res_name": "Mr. Yamamoto"}),  # pricey
        ("revert", {**BOOKING, "status": 35, "price": "12000.00"}),  # tanaka, pricey, refunded
    ]
    for event, data in events:
        publish(client, tenant, {"object": "appointment", "event": event, "role": 5, "data": data})
    assert deliveries_by_hook(app) == {place: 1, tanaka: 2, pricey: 2, refunded: 1}


def test_paused_and_other_accounts_hooks_get_nothing(app, client, tenant, other_tenant):
    paused = subscribe(client, tenant, "purchase")
    client.patch(f"/api/v1/hooks/{paused}", json={"status": "paused"}, headers=tenant.headers)
    subscribe(client, other_tenant, "purchase")
    answer = publish(client, tenant, {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1}})
    assert answer["deliveries"] == 0 and count(app, Delivery) == 0


@pytest.mark.parametrize(
    "body, where",
    [
        ({"object": "booking", "event": "create", "role": 3, "data": {}}, "object"),
        ({"object": "appointment", "event": "new", "role": 3, "data": {}}, "event"),
        ({"object": "appointment", "event": "create", "role": 6, "data": {}}, "role"),
        ({"object": "appointment", "event": "create", "role": "3", "data": {}}, "role"),
        ({"object": "appointment", "event": "create", "role": 3, "data": [1]}, "data"),
        ({"object": "appointment", "event": "create", "role": 3}, "data"),
        ({"object": "appointment", "event": "create", "role": 3, "data": {}, "occurred_at": "yesterday"}, "occurred_at"),
        ({"object": "appointment", "event": "create", "role": 3, "data": {}, "extra": 1}, "extra"),
    ],
)
def test_bad_events_are_422_and_store_nothing(app, client, tenant, body, where):
    response = client.post("/api/v1/events", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert where in response.json["errors"]["json"], response.json
    assert where in response.json["message"]
    assert count(app, Event) == 0


def test_event_of_the_wrong_object_names_the_allowed_ones(client, tenant):
    response = client.post(
        "/api/v1/events", json={"object": "user", "event": "create", "role": 3, "data": {}}, headers=tenant.headers
    )
    assert "'create' is not an event of user: use one of new, change, delete" in response.json["message"]


def test_occurred_at_is_kept_in_utc(client, tenant):
    body = {"object": "purchase", "event": "purchase", "role": 7, "occurred_at": "2026-11-29T10:00:00+09:00", "data": {}}
    publish(client, tenant, body)
    assert client.get("/api/v1/events?trigger=purchase", headers=tenant.headers).json[0]["occurred_at"] == "2026-11-29T01:00:00Z"


def test_idempotency_key(app, client, tenant):
    subscribe(client, tenant, "purchase")
    body = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 7}}
    first = publish(client, tenant, body, **{"Idempotency-Key": "order-7"})
    again = client.post("/api/v1/events", json=body, headers={**tenant.headers, "Idempotency-Key": "order-7"})
    assert again.status_code == 202 and again.json == first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(app, Event) == 1 and count(app, Delivery) == 1
    other = client.post(
        "/api/v1/events", json={**body, "data": {"id": 8}}, headers={**tenant.headers, "Idempotency-Key": "order-7"}
    )
    assert other.status_code == 409 and "order-7" in other.json["message"]
    assert count(app, Event) == 1
    publish(client, tenant, body, **{"Idempotency-Key": "order-7b"})
    assert count(app, Event) == 2


def test_idempotency_keys_are_per_account(app, client, tenant, other_tenant):
    body = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 7}}
    a = publish(client, tenant, body, **{"Idempotency-Key": "k"})
    b = publish(client, other_tenant, body, **{"Idempotency-Key": "k"})
    assert a["id"] != b["id"] and count(app, Event) == 2


def test_batch(app, client, tenant):
    subscribe(client, tenant, "changed_user")
    batch = [{"object": "user", "event": e, "role": 3, "data": {"id": i}} for i, e in enumerate(["new", "change", "delete"])]
    response = client.post("/api/v1/events/batch", json=batch, headers=tenant.headers)
    assert response.status_code == 202
    assert [a["triggers"] for a in response.json["events"]] == [["new_user", "changed_user"], ["changed_user"], ["changed_user"]]
    assert response.json["deliveries"] == 3 and count(app, Delivery) == 3


def test_a_batch_with_one_bad_event_stores_nothing(app, client, tenant):
    batch = [
        {"object": "user", "event": "new", "role": 3, "data": {}},
        {"object": "user", "event": "nope", "role": 3, "data": {}},
    ]
    response = client.post("/api/v1/events/batch", json=batch, headers=tenant.headers)
    assert response.status_code == 422 and "1" in response.json["errors"]["json"]
    assert count(app, Event) == 0


def test_batch_size_limit(app, client, tenant):
    app.config["MAX_BATCH_EVENTS"] = 2
    batch = [{"object": "user", "event": "new", "role": 3, "data": {}}] * 3
    response = client.post("/api/v1/events/batch", json=batch, headers=tenant.headers)
    assert response.status_code == 422 and "1 to 2 events" in response.json["message"]
    assert client.post("/api/v1/events/batch", json=[], headers=tenant.headers).status_code == 422
    assert count(app, Event) == 0


def test_polling_newest_first_after_an_id(client, tenant, other_tenant):
    ids = [publish(client, tenant, {"object": "user", "event": "change", "role": 3, "data": {"id": n}})["id"] for n in range(4)]
    publish(client, other_tenant, {"object": "user", "event": "change", "role": 3, "data": {"id": 99}})
    everything = client.get("/api/v1/events?trigger=changed_user", headers=tenant.headers).json
    assert [p["event_id"] for p in everything] == ids[::-1]
    assert everything[0] == {
        "id": 3,
        "trigger": "changed_user",
        "event": "change",
        "role": 3,
        "event_id": ids[3],
        "occurred_at": everything[0]["occurred_at"],
    }
    newer = client.get(f"/api/v1/events?trigger=changed_user&after={ids[1]}&limit=1", headers=tenant.headers).json
    assert [p["event_id"] for p in newer] == [ids[3]]
    theirs = client.get("/api/v1/events?trigger=changed_user", headers=other_tenant.headers).json
    assert [p["id"] for p in theirs] == [99]
    assert client.get(f"/api/v1/events?trigger=changed_user&after={ids[0]}", headers=other_tenant.headers).status_code == 404
    assert client.get("/api/v1/events?trigger=nope", headers=tenant.headers).status_code == 422
    assert client.get("/api/v1/events", headers=tenant.headers).status_code == 422


def test_samples_become_real_once_events_arrive(client, tenant):
    publish(client, tenant, {"object": "appointment", "event": "place", "role": 3, "data": BOOKING})
    sample = client.get("/api/v1/triggers/changed_appointment/samples", headers=tenant.headers).json
    assert len(sample) == 1 and sample[0]["full_name"] == "佐藤 花子" and sample[0]["status_message"] == "Pending approval"


def test_an_overlong_idempotency_key_is_422(app, client, tenant):
    body = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 7}}
    response = client.post("/api/v1/events", json=body, headers={**tenant.headers, "Idempotency-Key": "k" * 201})
    assert response.status_code == 422 and "Idempotency-Key" in response.json["message"]
    assert count(app, Event) == 0
