"""The delivery store with time passed in: the retry schedule, leases, several dispatchers, upkeep."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector.delivery import store
from connector.delivery.retry import RetryPolicy
from connector.delivery.transport import AttemptResult
from connector.models import Attempt, Delivery, Hook
from connector.services import housekeeping, publish
from connector.services.hooks import create_hook

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
LEASE = timedelta(seconds=120)
POLICY = RetryPolicy(jitter=0.0)


def result(status, at, retry_after=None):
    return AttemptResult(at, 12, status, None if status else "connection refused", b"", retry_after)


@pytest.fixture
def db(app):
    with app.extensions["connector.db"].session() as session:
        yield session


@pytest.fixture
def hook(db, tenant):
    return create_hook(db, tenant.id, trigger="purchase", target_url="https://example.com/h", now=T0)


def publish_one(db, tenant, now=T0, n=1):
    events = [publish.NewEvent("purchase", "purchase", 3, now, {"id": i}) for i in range(n)]
    publish.publish(db, tenant.id, events, now)
    db.commit()


def claim(db, owner, now, limit=100):
    return store.load_jobs(db, store.claim_due(db, owner, now, LEASE, limit), now)


def test_the_default_schedule_stepped_with_now(db, tenant, hook):
    publish_one(db, tenant)
    now = T0
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    for n, gap in enumerate(expected, start=1):
        assert claim(db, "w", now - timedelta(seconds=1)) == []  # not due a second early
        (job,) = claim(db, "w", now)
        assert job.attempts == n - 1
        (outcome,) = store.record(db, "w", [(job, result(503, now))], now, POLICY)
        assert outcome.next_attempt_at == now + timedelta(seconds=gap)
        now = outcome.next_attempt_at
    (job,) = claim(db, "w", now)
    (outcome,) = store.record(db, "w", [(job, result(None, now))], now, POLICY)
    assert outcome.next_attempt_at is None
    row = db.scalars(select(Delivery)).one()
    db.refresh(row)
    assert row.status == "failed" and row.attempts == 8 and row.last_error == "connection refused"
    assert db.query(Attempt).count() == 8
    assert claim(db, "w", now + timedelta(days=365)) == []


def test_jitter_stays_within_bounds(db, tenant, hook):
    publish_one(db, tenant)
    policy = RetryPolicy(jitter=0.1)
    (job,) = claim(db, "w", T0)
    (low,) = store.record(db, "w", [(job, result(500, T0))], T0, policy, rand=lambda: 0.0)
    assert low.next_attempt_at == T0 + timedelta(seconds=4.5)


def test_a_lease_keeps_others_away_until_it_runs_out(db, tenant, hook):
    publish_one(db, tenant)
    assert len(claim(db, "a", T0)) == 1
    assert claim(db, "b", T0 + LEASE - timedelta(seconds=1)) == []
    (job,) = claim(db, "b", T0 + LEASE)  # a died: b takes over
    # a comes back late: its record no longer moves the delivery, b's does.
    store.record(db, "a", [(job, result(200, T0 + LEASE))], T0 + LEASE, POLICY)
    row = db.scalars(select(Delivery)).one()
    db.refresh(row)
    assert row.status == "pending" and row.lease_owner == "b"
    store.record(db, "b", [(job, result(200, T0 + LEASE))], T0 + LEASE, POLICY)
    db.refresh(row)
    assert row.status == "succeeded" and row.lease_owner is None


def test_a_live_owner_renews_its_leases_a_dead_one_does_not(db, tenant, hook):
    publish_one(db, tenant, n=2)
    first, second = claim(db, "a", T0)
    # "a" still holds the first (queued behind a slow host) and renews it; the second it lost track of.
    assert store.renew(db, "a", [first.delivery_id], T0 + LEASE / 2, LEASE) == 1
    assert store.renew(db, "b", [second.delivery_id], T0 + LEASE / 2, LEASE) == 0, "only the owner renews"
    taken = claim(db, "b", T0 + LEASE)
    assert [j.delivery_id for j in taken] == [second.delivery_id]
    assert claim(db, "b", T0 + LEASE * 3 / 2 - timedelta(seconds=1)) == []
    assert [j.delivery_id for j in claim(db, "b", T0 + LEASE * 3 / 2)] == [first.delivery_id]  # "a" died after all


def test_two_dispatchers_claim_disjoint_batches(db, tenant, hook):
    publish_one(db, tenant, n=10)
    a = {j.delivery_id for j in claim(db, "a", T0, limit=6)}
    b = {j.delivery_id for j in claim(db, "b", T0, limit=6)}
    assert len(a) == 6 and len(b) == 4 and not a & b


def test_busy_hooks_are_skipped_and_paused_hooks_hold(db, tenant, hook):
    publish_one(db, tenant, n=3)
    assert store.claim_due(db, "w", T0, LEASE, 10, skip_hooks=[hook.id]) == []
    hook.status = "paused"
    db.commit()
    assert claim(db, "w", T0) == []
    hook.status = "active"
    db.commit()
    assert len(claim(db, "w", T0)) == 3


def test_release_makes_deliveries_due_again_at_once(db, tenant, hook):
    publish_one(db, tenant)
    (job,) = claim(db, "w", T0)
    store.release(db, "w", [job.delivery_id])
    assert len(claim(db, "other", T0)) == 1


def test_hooks_that_keep_failing_are_disabled_then_re_enabled(app, client, db, tenant, hook):
    publish_one(db, tenant)
    (job,) = claim(db, "w", T0)
    store.record(db, "w", [(job, result(500, T0))], T0, POLICY)
    assert housekeeping.disable_failing_hooks(db, T0 + timedelta(days=4), timedelta(days=5)) == []
    assert housekeeping.disable_failing_hooks(db, T0 + timedelta(days=5), timedelta(days=5)) == [hook.id]
    body = client.get(f"/api/v1/hooks/{hook.id}", headers=tenant.headers).json
    assert body["status"] == "disabled" and "no delivery succeeded since 2026-11-29 01:00" in body["disabled_reason"]
    assert client.patch(f"/api/v1/hooks/{hook.id}", json={"status": "active"}, headers=tenant.headers).json["status"] == "active"


def test_a_success_clears_the_failure_clock(db, tenant, hook):
    publish_one(db, tenant, n=2)
    first, second = claim(db, "w", T0)
    store.record(db, "w", [(first, result(500, T0))], T0, POLICY)
    store.record(db, "w", [(second, result(200, T0 + timedelta(days=1)))], T0 + timedelta(days=1), POLICY)
    assert housekeeping.disable_failing_hooks(db, T0 + timedelta(days=30), timedelta(days=5)) == []
    db.refresh(hook)
    assert hook.failing_since is None and hook.last_success_at == T0 + timedelta(days=1)


def test_retention_purges_old_finished_work(db, tenant, hook):
    publish_one(db, tenant, n=2)
    done, waiting = claim(db, "w", T0)
    store.record(db, "w", [(done, result(200, T0))], T0, POLICY)
    store.release(db, "w", [waiting.delivery_id])
    assert housekeeping.purge(db, T0 + timedelta(days=29), timedelta(days=30)) == {
        "deliveries": 0,
        "events": 0,
        "idempotency_keys": 0,
    }
    purged = housekeeping.purge(db, T0 + timedelta(days=31), timedelta(days=30))
    assert purged == {"deliveries": 1, "events": 1, "idempotency_keys": 0}  # the pending one and its event stay
    assert [d.id for d in db.scalars(select(Delivery))] == [waiting.delivery_id]
    assert db.query(Attempt).count() == 0


def test_secrets_in_grace_then_one(db, hook):
    assert store.hook_secrets("new", "old", T0 + timedelta(hours=1), T0) == ("new", "old")
    assert store.hook_secrets("new", "old", T0, T0) == ("new",)
    assert store.hook_secrets("new", None, None, T0) == ("new",)
    assert db.get(Hook, hook.id).secret.startswith("whsec_")


def test_the_scheduled_housekeeping_runs_against_the_apps_database(app, db, tenant, hook):
    from connector import background

    long_ago = datetime.now(UTC) - timedelta(days=6)
    publish_one(db, tenant, now=long_ago)
    (job,) = claim(db, "w", long_ago)
    store.record(db, "w", [(job, result(500, long_ago))], long_ago, POLICY)
    background.run_housekeeping(app)  # the real clock: failing for 6 days, the limit is 5
    db.refresh(hook)
    assert hook.status == "disabled" and "no delivery succeeded" in hook.disabled_reason
