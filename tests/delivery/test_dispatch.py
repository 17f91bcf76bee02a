"""End to end: events published through the API reach real receivers on 127.0.0.1, signed and retried."""

import json
import threading

from sqlalchemy import select
from standardwebhooks import Webhook

from connector import payloads
from connector.models import Delivery
from tests.conftest import make_tenant
from tests.receiver import Answer, wait_until

BOOKING = {
    "id": 81723,
    "res_name": "Ms. Tanaka",
    "full_name": "佐藤 花子",
    "description": "初めての参加です。🧘",
    "price": "6000.00",
}


def subscribe(client, tenant, url, trigger="changed_appointment", filters=None):
    response = client.post(
        "/api/v1/hooks", json={"target_url": url, "trigger": trigger, "filters": filters}, headers=tenant.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def publish(client, tenant, event="place", data=BOOKING):
    response = client.post(
        "/api/v1/events", json={"object": "appointment", "event": event, "role": 3, "data": data}, headers=tenant.headers
    )
    assert response.status_code == 202, response.json
    return response.json


def delivery(app, **where):
    with app.extensions["connector.db"].session() as session:
        return session.scalars(select(Delivery).filter_by(**where)).one()


def settled(app, delivery_id, status):
    return lambda: delivery(app, id=delivery_id).status == status


def test_a_push_is_signed_and_byte_exact(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    event = publish(client, tenant)
    (request,) = webhook_receiver.wait_count(1)
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["description"] == "初めての参加です。🧘" and payload["full_name"] == "佐藤 花子"
    assert payload["event_id"] == event["id"] and payload["trigger"] == "changed_appointment" and payload["event"] == "place"
    assert request.headers["content-type"] == "application/json"
    sent = delivery(live_app, hook_id=hook["id"])
    assert request.headers["webhook-id"] == sent.id
    # The exact bytes: compact UTF-8 JSON, Japanese and emoji not escaped.
    assert "佐藤 花子".encode() in request.body and b"\\u" not in request.body
    assert request.body == payloads.encode(json.loads(request.body))
    wait_until(settled(live_app, sent.id, "succeeded"), what="delivery recorded")


def test_the_first_attempt_does_not_wait_for_a_tick(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    subscribe(client, tenant, webhook_receiver.url())
    scheduler = live_app.extensions["connector.scheduler"]
    scheduler.pause()  # no clock ticks at all: only the hand-over after commit can deliver
    publish(client, tenant)
    webhook_receiver.wait_count(1, timeout=5)


def test_failures_are_retried_with_the_same_webhook_id(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    webhook_receiver.script("/hook", Answer(500, body=b"boom"), Answer(503))
    publish(client, tenant)
    first, second, third = webhook_receiver.wait_count(3)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    for request in (first, second, third):
        Webhook(hook["secret"]).verify(request.body, request.headers)
    assert first.body == third.body
    sent = delivery(live_app, hook_id=hook["id"])
    wait_until(settled(live_app, sent.id, "succeeded"), what="third attempt recorded")
    detail = client.get(f"/api/v1/deliveries/{sent.id}", headers=tenant.headers).json
    assert [a["status_code"] for a in detail["attempts_log"]] == [500, 503, 200]
    assert [a["outcome"] for a in detail["attempts_log"]] == ["retry", "retry", "succeeded"]
    assert detail["attempts_log"][0]["response_excerpt"] == "boom"
    assert detail["attempts"] == 3 and detail["status"] == "succeeded"


def test_after_the_schedule_the_delivery_fails_and_stays_replayable(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    webhook_receiver.script("/hook", *[Answer(500)] * 4)
    publish(client, tenant)
    webhook_receiver.wait_count(4)  # the first attempt and 3 retries
    sent = delivery(live_app, hook_id=hook["id"])
    wait_until(settled(live_app, sent.id, "failed"), what="delivery failed")
    retried = client.post(f"/api/v1/deliveries/{sent.id}/retry", headers=tenant.headers)
    assert retried.status_code == 202
    webhook_receiver.wait_count(5)
    wait_until(settled(live_app, sent.id, "succeeded"), what="replay succeeded")


def test_410_ends_the_hook_and_cancels_its_pending_deliveries(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    gate = threading.Event()
    webhook_receiver.script("/hook", Answer(410, hold=gate))
    publish(client, tenant, data={**BOOKING, "id": 1})
    webhook_receiver.wait_count(1)
    # More arrive while the first is in flight; the 410 cancels them.
    with live_app.extensions["connector.db"].engine.begin() as conn:
        conn.exec_driver_sql("UPDATE deliveries SET next_attempt_at = '2099-01-01 00:00:00'")  # keep others waiting
    publish(client, tenant, data={**BOOKING, "id": 2})
    gate.set()
    wait_until(lambda: client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["status"] == "disabled")
    body = client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json
    assert "410" in body["disabled_reason"]
    statuses = {d["status"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json}
    assert statuses == {"failed", "cancelled"}
    assert (
        client.patch(f"/api/v1/hooks/{hook['id']}", json={"status": "active"}, headers=tenant.headers).json["status"] == "active"
    )


def test_retry_after_is_honoured(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    webhook_receiver.script("/hook", Answer(429, headers={"Retry-After": "3600"}))
    publish(client, tenant)
    webhook_receiver.wait_count(1)
    wait_until(lambda: delivery(live_app, hook_id=hook["id"]).attempts == 1, what="attempt recorded")
    sent = delivery(live_app, hook_id=hook["id"])
    assert sent.status == "pending" and sent.last_status_code == 429
    assert (sent.next_attempt_at - sent.last_attempt_at).total_seconds() >= 3599


def test_a_redirect_is_not_followed(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    webhook_receiver.script("/hook", Answer(302, headers={"Location": webhook_receiver.url("/elsewhere")}))
    publish(client, tenant)
    webhook_receiver.wait_count(2, path="/hook")  # the retry goes to the hook's URL again
    assert webhook_receiver.received("/elsewhere") == []
    detail = client.get(f"/api/v1/deliveries/{delivery(live_app, hook_id=hook['id']).id}", headers=tenant.headers).json
    assert detail["attempts_log"][0]["status_code"] == 302
    assert "redirect not followed" in detail["attempts_log"][0]["error"]


def test_a_timeout_is_an_error_and_retried(live_app, webhook_receiver):
    live_app.config["DELIVERY_TIMEOUT"] = 0.3  # for /hooks/{id}/test, which reads it per call
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    webhook_receiver.script("/hook", Answer(delay=1.0))
    answer = client.post(f"/api/v1/hooks/{hook['id']}/test", headers=tenant.headers).json
    assert answer["attempt"]["status_code"] is None and "timeout" in answer["attempt"]["error"]


def test_a_slow_receiver_does_not_hold_back_another_subscriber(live_app, webhook_receiver):
    from tests.receiver import WebhookReceiver

    fast = WebhookReceiver()
    try:
        client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
        gate = threading.Event()
        webhook_receiver.defaults["/slow"] = Answer(hold=gate)
        subscribe(client, tenant, webhook_receiver.url("/slow"))
        subscribe(client, tenant, fast.url("/fast"))
        for n in range(40):
            publish(client, tenant, data={**BOOKING, "id": n})
        fast.wait_count(40, timeout=10)  # every fast delivery while the slow ones hang
        assert len(webhook_receiver.received("/slow")) <= live_app.config["PER_HOST_CONCURRENCY"]
        gate.set()
        webhook_receiver.wait_count(40, path="/slow", timeout=20)
    finally:
        fast.close()


def test_test_endpoint_sends_the_newest_sample(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url(), trigger="purchase")
    webhook_receiver.script("/hook", Answer(201, body="受け取りました".encode()))
    answer = client.post(f"/api/v1/hooks/{hook['id']}/test", headers=tenant.headers).json
    (request,) = webhook_receiver.wait_count(1)
    assert Webhook(hook["secret"]).verify(request.body, request.headers)["product"] == "回数券 10回分"
    assert answer["attempt"]["status_code"] == 201 and answer["attempt"]["response_excerpt"] == "受け取りました"
    assert answer["webhook_id"] == request.headers["webhook-id"]


def test_rotated_secret_signs_twice_during_grace(live_app, webhook_receiver):
    client, tenant = live_app.test_client(), make_tenant(live_app, "studio")
    hook = subscribe(client, tenant, webhook_receiver.url())
    rotated = client.post(f"/api/v1/hooks/{hook['id']}/rotate-secret", headers=tenant.headers).json
    assert rotated["secret"] != hook["secret"] and rotated["previous_secret_expires_at"]
    publish(client, tenant)
    (request,) = webhook_receiver.wait_count(1)
    assert len(request.headers["webhook-signature"].split()) == 2
    Webhook(hook["secret"]).verify(request.body, request.headers)
    Webhook(rotated["secret"]).verify(request.body, request.headers)
