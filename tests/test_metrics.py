"""/metrics after a known sequence of events: counters, the histogram, gauges from the database."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from connector.models import Delivery
from connector.services import stats
from tests.conftest import make_tenant
from tests.receiver import Answer, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scrape(client, headers=None) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before, after, name, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def subscribe(client, tenant, url, trigger):
    response = client.post("/api/v1/hooks", json={"target_url": url, "trigger": trigger}, headers=tenant.headers)
    assert response.status_code == 201
    return response.json


def publish(client, tenant, obj, event, headers=None, **data):
    body = {"object": obj, "event": event, "role": 3, "data": {"id": 1, **data}}
    response = client.post("/api/v1/events", json=body, headers={**tenant.headers, **(headers or {})})
    assert response.status_code == 202
    return response.json


def test_counters_and_histogram_after_a_known_sequence(live_app, webhook_receiver):
    client = live_app.test_client()
    tenant = make_tenant(live_app, "yoga-shibuya")
    receiver = webhook_receiver
    receiver.script("/flaky", Answer(500))  # then 200
    receiver.defaults["/gone"] = Answer(410)
    subscribe(client, tenant, receiver.url("/ok"), "new_appointment")
    subscribe(client, tenant, receiver.url("/flaky"), "changed_appointment")
    subscribe(client, tenant, receiver.url("/gone"), "new_user")
    before = scrape(client)

    publish(client, tenant, "appointment", "create")  # new_ and changed_appointment: /ok and /flaky
    publish(client, tenant, "user", "new")  # new_ and changed_user: /gone
    once = {"Idempotency-Key": "form-1"}
    publish(client, tenant, "form", "new", headers=once)  # new_ and changed_form, no hook
    publish(client, tenant, "form", "new", headers=once)  # a replay: stored nothing, counts nothing

    expected = {
        ("connector_delivery_attempts_total", "succeeded"): 2,
        ("connector_delivery_attempts_total", "retry"): 1,
        ("connector_delivery_attempts_total", "gone"): 1,
        ("connector_deliveries_total", "succeeded"): 2,
        ("connector_deliveries_total", "gone"): 1,
    }

    def settled():
        after = scrape(client)
        return all(delta(before, after, name, outcome=o) == n for (name, o), n in expected.items())

    wait_until(settled, what="every attempt counted")
    after = scrape(client)
    for trigger in ("new_appointment", "changed_appointment", "new_user", "changed_user", "new_form", "changed_form"):
        assert delta(before, after, "connector_events_ingested_total", trigger=trigger) == 1, trigger
    assert delta(before, after, "connector_events_ingested_total", trigger="purchase") == 0
    for outcome in ("failed",):
        assert delta(before, after, "connector_delivery_attempts_total", outcome=outcome) == 0
        assert delta(before, after, "connector_deliveries_total", outcome=outcome) == 0
    assert delta(before, after, "connector_deliveries_total", outcome="retry") == 0
    assert delta(before, after, "connector_delivery_attempt_duration_seconds_count") == 4
    assert delta(before, after, "connector_delivery_attempt_duration_seconds_bucket", le="+Inf") == 4
    assert delta(before, after, "connector_delivery_attempt_duration_seconds_sum") > 0
    # The gauges: the 410 disabled /gone's hook; nothing is left in the queue.
    assert value(after, "connector_hooks_disabled") == 1
    assert value(after, "connector_hooks", status="active") == 2
    assert value(after, "connector_hooks", status="disabled") == 1
    assert value(after, "connector_metrics_database_up") == 1
    for state in stats.QUEUE_STATES:
        assert value(after, "connector_queue_depth", state=state) == 0, state
    assert value(after, "connector_oldest_due_delivery_age_seconds") == 0


def test_queue_gauges_by_state_and_the_oldest_due_age(app, client, tenant):
    active = subscribe(client, tenant, "https://example.com/a", "purchase")
    paused = subscribe(client, tenant, "https://example.com/p", "purchase")
    for i in range(4):
        publish(client, tenant, "purchase", "purchase", id=i)
    client.patch(f"/api/v1/hooks/{paused['id']}", json={"status": "paused"}, headers=tenant.headers)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    engine = app.extensions["connector.db"].engine
    with engine.begin() as conn:
        ids = [r.id for r in conn.execute(Delivery.__table__.select().where(Delivery.hook_id == active["id"]))]
        d = Delivery.__table__.c
        # Of the active hook's four: two due (the older since t0), one in flight, one scheduled.
        conn.execute(update(Delivery).where(d.id == ids[0]).values(next_attempt_at=t0))
        conn.execute(update(Delivery).where(d.id == ids[1]).values(next_attempt_at=t0 + timedelta(seconds=30)))
        conn.execute(update(Delivery).where(d.id == ids[2]).values(next_attempt_at=t0, lease_expires_at=t0 + timedelta(days=1)))
        conn.execute(update(Delivery).where(d.id == ids[3]).values(next_attempt_at=t0 + timedelta(hours=1)))
    with app.extensions["connector.db"].session() as session:
        numbers = stats.queue_stats(session, t0 + timedelta(seconds=42))
    assert numbers.depth == {"due": 2, "in_flight": 1, "scheduled": 1, "held": 4}
    assert numbers.oldest_due_age_seconds == 42.0
    assert numbers.hooks == {"active": 1, "paused": 1, "disabled": 0}

    samples = scrape(client)  # now: two hours after t0, so the scheduled one is due too
    assert value(samples, "connector_queue_depth", state="due") == 3
    assert value(samples, "connector_queue_depth", state="in_flight") == 1
    assert value(samples, "connector_queue_depth", state="scheduled") == 0
    assert value(samples, "connector_queue_depth", state="held") == 4
    assert value(samples, "connector_oldest_due_delivery_age_seconds") >= (datetime.now(UTC) - t0).total_seconds() - 5
    assert value(samples, "connector_hooks", status="paused") == 1


def test_a_token_guards_metrics_when_configured(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    denied = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert denied.json["code"] == 401 and "CONNECTOR_METRICS_TOKEN" in denied.json["message"]
    assert value(scrape(client, {"Authorization": "Bearer s3cret-token"}), "connector_metrics_database_up") == 1


def test_metrics_need_no_api_key_and_set_no_cookie(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


COUNT_IN_A_CHILD = """
from connector import observe
observe.events([{"triggers": ["purchase"]}] * {n})
"""


def test_multiprocess_mode_adds_up_every_process(client, tmp_path, monkeypatch):
    """With PROMETHEUS_MULTIPROC_DIR, one scrape reports the counts of every process."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):
        code = COUNT_IN_A_CHILD.replace("{n}", str(n))
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)  # this process wrote no files: only the two children count
    assert value(samples, "connector_events_ingested_total", trigger="purchase") == 5
    assert value(samples, "connector_metrics_database_up") == 1
