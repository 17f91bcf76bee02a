"""The SQLite fast path stores and reads exactly what the SQLAlchemy Core path does."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector import rawsql
from connector.models import Delivery, Event, EventTrigger
from connector.services import accounts, publish
from connector.services.hooks import create_hook

pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)


def stored(session, event_id):
    event = session.scalars(select(Event).where(Event.id == event_id)).one()
    triggers = sorted(session.scalars(select(EventTrigger.trigger).where(EventTrigger.event_seq == event.seq)))
    deliveries = session.scalars(select(Delivery).where(Delivery.event_seq == event.seq)).all()
    return (
        (event.object, event.event, event.role, event.occurred_at, event.received_at, event.data),
        triggers,
        [(d.hook_id, d.trigger, d.status, d.next_attempt_at, d.lease_owner, d.lease_expires_at) for d in deliveries],
    )


def test_raw_and_core_paths_agree(app, tenant, monkeypatch):
    data = {"id": 7, "full_name": "佐藤 花子", "price": "6000.00", "nested": {"ok": True, "n": [1, 2.5, None]}}
    lease = publish.Lease("worker-1", timedelta(seconds=120))
    with app.extensions["connector.db"].session() as session:
        hook = create_hook(
            session,
            tenant.id,
            trigger="changed_appointment",
            target_url="https://example.com/h",
            now=T0,
            filters={"price": {"gte": 5000}},
        )
        hook.previous_secret, hook.previous_secret_expires_at = "whsec_b2xk", T0 + timedelta(hours=1)
        session.commit()
        results = []
        for raw in (True, False):
            monkeypatch.setattr(rawsql, "supported", lambda conn, raw=raw: raw)
            event = publish.NewEvent("appointment", "create", 3, T0, data)
            answers, jobs = publish.publish(session, tenant.id, [event], T0 + timedelta(seconds=1), lease)
            session.commit()
            assert answers[0]["deliveries"] == 1
            bodies = [json.loads(j.body) for j in jobs]
            assert [b.pop("event_id") for b in bodies] == [event.id]
            results.append((stored(session, event.id), [(j.url, b, j.secrets) for j, b in zip(jobs, bodies, strict=True)]))
            assert accounts.authenticate(session, tenant.key).id == tenant.id
        assert results[0] == results[1]
        assert results[0][0][0][3] == T0 and results[0][0][0][5] == data
        assert results[0][1][0][2] == (hook.secret, "whsec_b2xk")


def test_claimed_jobs_load_the_same_on_both_paths(app, tenant, monkeypatch):
    from connector.delivery import store

    with app.extensions["connector.db"].session() as session:
        hooks = [
            create_hook(session, tenant.id, trigger=t, target_url=f"https://example.com/{t}", now=T0)
            for t in ("changed_appointment", "new_appointment")
        ]
        hooks[0].previous_secret, hooks[0].previous_secret_expires_at = "whsec_b2xk", T0 + timedelta(hours=1)
        session.commit()
        hook_ids, secret = [h.id for h in hooks], hooks[0].secret
        data = {"id": 9, "full_name": "佐藤 花子", "role": 3, "status": 2, "nested": {"n": [1, 2.5, None]}}
        events = [publish.NewEvent("appointment", "create", 3, T0, {**data, "id": i}) for i in range(3)]
        publish.publish(session, tenant.id, events, T0, None)
        session.commit()
        ids = store.claim_due(session, "me", T0 + timedelta(seconds=1), timedelta(seconds=60), 100)
        assert len(ids) == 6  # three events, each to both hooks
        loaded = []
        for raw in (True, False):
            monkeypatch.setattr(rawsql, "supported", lambda conn, raw=raw: raw)
            jobs = store.load_jobs(session, ids, T0 + timedelta(minutes=1))
            loaded.append(sorted(jobs, key=lambda j: j.delivery_id))
    assert loaded[0] == loaded[1]
    by_hook = {j.hook_id: j for j in loaded[0]}
    assert by_hook[hook_ids[0]].secrets == (secret, "whsec_b2xk")
    body = json.loads(by_hook[hook_ids[1]].body)
    assert body["full_name"] == "佐藤 花子" and body["user_role"] == 3 and body["trigger"] == "new_appointment"
