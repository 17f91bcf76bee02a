"""The delivery log and redelivery, within one account."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from connector.models import Delivery


def setup_deliveries(client, tenant, n=3):
    hook = client.post(
        "/api/v1/hooks", json={"target_url": "https://example.com/h", "trigger": "purchase"}, headers=tenant.headers
    ).json
    events = [
        client.post(
            "/api/v1/events",
            json={"object": "purchase", "event": "purchase", "role": 3, "data": {"id": i}},
            headers=tenant.headers,
        ).json
        for i in range(n)
    ]
    return hook, events


def mark(app, status, **values):
    with app.extensions["connector.db"].engine.begin() as conn:
        conn.execute(update(Delivery).values(status=status, **values))


def test_list_narrow_and_read(client, tenant):
    hook, events = setup_deliveries(client, tenant)
    listed = client.get("/api/v1/deliveries", headers=tenant.headers).json
    assert [d["event_id"] for d in listed] == [e["id"] for e in events][::-1]
    assert all(d["hook_id"] == hook["id"] and d["status"] == "pending" and d["attempts"] == 0 for d in listed)
    one = client.get(f"/api/v1/deliveries?event_id={events[1]['id']}", headers=tenant.headers).json
    assert len(one) == 1 and one[0]["event_id"] == events[1]["id"]
    assert client.get(f"/api/v1/deliveries?hook_id={hook['id']}&status=failed", headers=tenant.headers).json == []
    detail = client.get(f"/api/v1/deliveries/{one[0]['id']}", headers=tenant.headers).json
    assert detail["payload"]["id"] == 1 and detail["payload"]["event_id"] == events[1]["id"]
    assert detail["attempts_log"] == []
    assert client.get("/api/v1/deliveries?status=lost", headers=tenant.headers).status_code == 422


def test_another_account_sees_none_of_it(client, tenant, other_tenant):
    hook, _ = setup_deliveries(client, tenant)
    delivery_id = client.get("/api/v1/deliveries", headers=tenant.headers).json[0]["id"]
    theirs = other_tenant.headers
    assert client.get("/api/v1/deliveries", headers=theirs).json == []
    assert client.get(f"/api/v1/deliveries?hook_id={hook['id']}", headers=theirs).json == []
    for response in (
        client.get(f"/api/v1/deliveries/{delivery_id}", headers=theirs),
        client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=theirs),
        client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": "2020-01-01T00:00:00Z"}, headers=theirs),
        client.post(f"/api/v1/hooks/{hook['id']}/rotate-secret", headers=theirs),
        client.post(f"/api/v1/hooks/{hook['id']}/test", headers=theirs),
    ):
        assert response.status_code == 404
        assert "example.com" not in response.get_data(as_text=True)


def test_recover_requeues_failures_since_a_time(app, client, tenant):
    hook, _ = setup_deliveries(client, tenant)
    mark(app, "failed", next_attempt_at=None, attempts=8)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": future}, headers=tenant.headers)
    assert none.status_code == 202 and none.json == {"recovered": 0}
    some = client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": "2020-01-01T00:00:00Z"}, headers=tenant.headers)
    assert some.json == {"recovered": 3}
    listed = client.get("/api/v1/deliveries", headers=tenant.headers).json
    assert {(d["status"], d["attempts"]) for d in listed} == {("pending", 0)}
    bad = client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": "last week"}, headers=tenant.headers)
    assert bad.status_code == 422 and "since" in bad.json["message"]


def test_no_redelivery_to_a_hook_that_is_not_active(app, client, tenant):
    hook, _ = setup_deliveries(client, tenant, n=1)
    mark(app, "failed")
    client.patch(f"/api/v1/hooks/{hook['id']}", json={"status": "paused"}, headers=tenant.headers)
    delivery_id = client.get("/api/v1/deliveries", headers=tenant.headers).json[0]["id"]
    response = client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=tenant.headers)
    assert response.status_code == 409 and "paused" in response.json["message"]
    recover = client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": "2020-01-01T00:00:00Z"}, headers=tenant.headers)
    assert recover.status_code == 409


def test_rotate_secret_with_a_grace_period(client, tenant):
    hook, _ = setup_deliveries(client, tenant, n=0)
    rotated = client.post(f"/api/v1/hooks/{hook['id']}/rotate-secret", json={"grace_seconds": 60}, headers=tenant.headers)
    assert rotated.status_code == 200
    expires = datetime.fromisoformat(rotated.json["previous_secret_expires_at"])
    assert timedelta(seconds=55) < expires - datetime.now(UTC) <= timedelta(seconds=60)
    too_long = client.post(f"/api/v1/hooks/{hook['id']}/rotate-secret", json={"grace_seconds": -1}, headers=tenant.headers)
    assert too_long.status_code == 422
