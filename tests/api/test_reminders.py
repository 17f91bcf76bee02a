"""Reminder rules through the API; bookings scheduling, moving and cancelling reminders; firing them once."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector.delivery import store
from connector.models import Delivery, Reminder
from connector.services import reminders

# Far enough ahead of the real clock that the API (which reads it) schedules every reminder.
START = datetime(2099, 3, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
BOOKING = {
    "id": 81723,
    "schedule_id": 3412,
    "res_name": "Ms. Tanaka",
    "start": "2099-03-01T10:00:00+09:00",
    "finish": "2099-03-01T11:00:00+09:00",
    "full_name": "佐藤 花子",
    "waitlisted": False,
    "deleted": False,
}
RULES = [
    {"event": "reminder", "offset_minutes": 1440},
    {"event": "reminder", "offset_minutes": 60},
    {"event": "follow_up", "offset_minutes": 120},
]
LATENESS = timedelta(hours=1)


def put_rules(client, tenant, rules=RULES, status=200, **extra):
    response = client.put("/api/v1/reminder-rules", json={"rules": rules, **extra}, headers=tenant.headers)
    assert response.status_code == status, response.json
    return response.json


def booking_event(client, tenant, event="create", **changes):
    body = {"object": "appointment", "event": event, "role": 3, "data": {**BOOKING, **changes}}
    response = client.post("/api/v1/events", json=body, headers=tenant.headers)
    assert response.status_code == 202, response.json
    return response.json


def listed(client, tenant, status="pending"):
    response = client.get(f"/api/v1/reminders?status={status}", headers=tenant.headers)
    assert response.status_code == 200, response.json
    return [(r["event"], r["offset_minutes"], r["due_at"]) for r in response.json]


def due(moment):
    return moment.isoformat()


@pytest.fixture
def db(app):
    with app.extensions["connector.db"].session() as session:
        yield session


def test_rules_default_and_replace(client, tenant):
    assert client.get("/api/v1/reminder-rules", headers=tenant.headers).json == {
        "timezone": "UTC",
        "rules": [],
        "updated_at": None,
    }
    saved = put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60, "filters": {"res_name": "Ms. Tanaka"}}])
    assert saved["rules"] == [{"event": "reminder", "offset_minutes": 60, "filters": {"res_name": "Ms. Tanaka"}}]
    assert saved["timezone"] == "UTC" and saved["updated_at"]
    assert client.get("/api/v1/reminder-rules", headers=tenant.headers).json == saved


@pytest.mark.parametrize(
    "body, where",
    [
        ({"rules": [{"event": "reminder", "offset_minutes": 60}], "timezone": "Mars/Olympus"}, "timezone"),
        ({"rules": [{"event": "nudge", "offset_minutes": 60}]}, "json.rules.0.event"),
        ({"rules": [{"event": "reminder", "offset_minutes": -5}]}, "json.rules.0.offset_minutes"),
        ({"rules": [{"event": "reminder", "offset_minutes": "soon"}]}, "json.rules.0.offset_minutes"),
        ({"rules": [{"event": "reminder", "offset_minutes": 5, "filters": {"a..b": 1}}]}, "rules.0.filters.a..b"),
        ({}, "json.rules"),
    ],
)
def test_bad_rules_are_422_naming_the_problem(client, tenant, body, where):
    response = client.put("/api/v1/reminder-rules", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    flat = {}
    stack = [("", errors)]
    while stack:
        prefix, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in value.items()]
        else:
            flat[prefix] = value
    assert any(key.startswith(where) for key in flat), flat
    assert client.get("/api/v1/reminder-rules", headers=tenant.headers).json["rules"] == []


def test_a_booking_schedules_its_reminders_and_an_edit_moves_them(client, tenant):
    put_rules(client, tenant)
    booking_event(client, tenant, "create")
    assert sorted(listed(client, tenant)) == sorted(
        [
            ("reminder", 1440, due(START - timedelta(hours=24))),
            ("reminder", 60, due(START - timedelta(hours=1))),
            ("follow_up", 120, due(START + timedelta(hours=3))),
        ]
    )
    booking_event(client, tenant, "edit", start="2099-03-02T10:00:00+09:00", finish="2099-03-02T11:00:00+09:00")
    later = START + timedelta(days=1)
    assert sorted(listed(client, tenant)) == sorted(
        [
            ("reminder", 1440, due(later - timedelta(hours=24))),
            ("reminder", 60, due(later - timedelta(hours=1))),
            ("follow_up", 120, due(later + timedelta(hours=3))),
        ]
    )
    assert len(listed(client, tenant, "cancelled")) == 3


@pytest.mark.parametrize(
    "event, changes",
    [("destroy", {}), ("edit", {"deleted": True}), ("edit", {"waitlisted": True})],
)
def test_deleting_or_waitlisting_cancels(client, tenant, event, changes):
    put_rules(client, tenant)
    booking_event(client, tenant, "create")
    booking_event(client, tenant, event, **changes)
    assert listed(client, tenant) == [] and len(listed(client, tenant, "cancelled")) == 3
    booking_event(client, tenant, "place")  # moved off the waiting list / restored: scheduled again
    assert len(listed(client, tenant)) == 3


def test_waitlisted_bookings_get_none_and_filters_limit_rules(client, tenant):
    put_rules(
        client,
        tenant,
        [
            {"event": "reminder", "offset_minutes": 60, "filters": {"res_name": "Mr. Yamamoto"}},
            {"event": "follow_up", "offset_minutes": 0},
        ],
    )
    booking_event(client, tenant, "create", waitlisted=True)
    assert listed(client, tenant) == []
    booking_event(client, tenant, "place", waitlisted=False)
    assert listed(client, tenant) == [("follow_up", 0, due(START + timedelta(hours=1)))]


def test_changing_the_rules_reschedules_what_is_pending(client, tenant):
    booking_event(client, tenant, "create")  # no rules yet: the booking is still remembered
    assert listed(client, tenant) == []
    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60}])
    assert listed(client, tenant) == [("reminder", 60, due(START - timedelta(hours=1)))]
    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 30}])
    assert listed(client, tenant) == [("reminder", 30, due(START - timedelta(minutes=30)))]
    put_rules(client, tenant, [])
    assert listed(client, tenant) == []


def test_times_without_an_offset_are_in_the_accounts_zone(client, tenant):
    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60}], timezone="Asia/Tokyo")
    booking_event(client, tenant, "create", start="2099-03-01T10:00", finish="2099-03-01T11:00")
    assert listed(client, tenant) == [("reminder", 60, due(START - timedelta(hours=1)))]


def test_an_older_event_arriving_late_changes_nothing(client, tenant):
    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60}])
    body = {"object": "appointment", "role": 3, "data": BOOKING}
    for event, at in (("create", "2099-01-01T00:00:10Z"), ("destroy", "2099-01-01T00:00:20Z"), ("edit", "2099-01-01T00:00:15Z")):
        response = client.post("/api/v1/events", json={**body, "event": event, "occurred_at": at}, headers=tenant.headers)
        assert response.status_code == 202
    assert listed(client, tenant) == []


def subscribe_reminders(client, tenant):
    body = {"target_url": "https://hooks.zapier.com/hooks/standard/1/slack", "trigger": "reminder"}
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert response.status_code == 201
    return response.json["id"]


def test_due_reminders_fire_once_as_reminder_events(app, client, tenant, db):
    hook_id = subscribe_reminders(client, tenant)
    put_rules(client, tenant)
    booking_event(client, tenant, "create")
    first = START - timedelta(hours=24)
    assert reminders.fire_due(db, first - timedelta(seconds=1), LATENESS) == reminders.Fired(0, 0)
    assert reminders.fire_due(db, first, LATENESS) == reminders.Fired(1, 0)
    assert reminders.fire_due(db, first, LATENESS) == reminders.Fired(0, 0)  # once only

    jobs = store.load_jobs(db, store.claim_due(db, "w", first, timedelta(seconds=60), 10), first)
    assert [j.hook_id for j in jobs] == [hook_id]
    payload = json.loads(jobs[0].body)
    assert payload["trigger"] == "reminder" and payload["event"] == "reminder" and payload["role"] == 7
    assert payload["id"] == 81723 and payload["full_name"] == "佐藤 花子"
    assert payload["occurred_at"] == "2099-02-28T01:00:00Z"
    fired = listed(client, tenant, "fired")
    assert fired == [("reminder", 1440, due(first))]
    event_id = client.get("/api/v1/reminders?status=fired", headers=tenant.headers).json[0]["event_id"]
    assert event_id == payload["event_id"]

    # The follow-up carries the booking's latest data.
    booking_event(client, tenant, "edit", full_name="佐藤 花子 (様)")
    assert reminders.fire_all_due(db, START - timedelta(hours=1), LATENESS) == reminders.Fired(1, 0)
    assert reminders.fire_all_due(db, START + timedelta(hours=3), LATENESS) == reminders.Fired(1, 0)
    polled = client.get("/api/v1/events?trigger=reminder", headers=tenant.headers).json
    assert [p["event"] for p in polled] == ["follow_up", "reminder", "reminder"]
    assert polled[0]["full_name"] == "佐藤 花子 (様)"


def test_reminders_overdue_beyond_the_lateness_are_skipped(client, tenant, db):
    subscribe_reminders(client, tenant)
    put_rules(client, tenant)
    booking_event(client, tenant, "create")
    # The connector was down from before the 24 h reminder until 30 min after the 1 h one.
    back = START - timedelta(minutes=30)
    assert reminders.fire_due(db, back, LATENESS) == reminders.Fired(1, 1)
    assert listed(client, tenant, "skipped") == [("reminder", 1440, due(START - timedelta(hours=24)))]
    assert listed(client, tenant, "fired") == [("reminder", 60, due(START - timedelta(hours=1)))]
    assert db.scalar(select(Delivery.trigger)) == "reminder"


def test_several_workers_fire_each_reminder_once(app, client, tenant):
    subscribe_reminders(client, tenant)
    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60}])
    for n in range(40):
        booking_event(client, tenant, "create", id=n)
    now = START - timedelta(minutes=59)
    results = []

    def worker():
        with app.extensions["connector.db"].session() as session:
            results.append(reminders.fire_all_due(session, now, LATENESS, batch=7))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(r.fired for r in results) == 40
    with app.extensions["connector.db"].session() as session:
        assert len(session.scalars(select(Delivery)).all()) == 40
        assert {r.status for r in session.scalars(select(Reminder))} == {"fired"}


def test_a_restarted_connector_fires_what_fell_due(tmp_path, migrated_template, client, tenant, app):
    """Pending reminders live in the database: a new app on the same file fires them."""
    from connector import create_app

    put_rules(client, tenant, [{"event": "reminder", "offset_minutes": 60}])
    booking_event(client, tenant, "create")
    url = app.config["DATABASE_URL"]
    app.extensions["connector.db"].dispose()
    again = create_app({"TESTING": True, "DATABASE_URL": url, "AUTO_MIGRATE": False, "DISPATCHER": False})
    try:
        with again.extensions["connector.db"].session() as session:
            assert reminders.fire_due(session, START - timedelta(minutes=10), LATENESS).fired == 1
    finally:
        again.extensions["connector.db"].dispose()


def test_the_scheduler_job_fires_what_is_due_and_wakes_the_dispatcher(app, client, tenant, db):
    """background.run_reminders on the real clock: a reminder due a minute ago goes out at once."""
    from connector import background
    from connector.models import ReminderBooking
    from connector.services import utcnow

    subscribe_reminders(client, tenant)
    now = utcnow()
    db.add(ReminderBooking(account_id=tenant.id, booking_id="7", active=True, data={"id": 7}, occurred_at=now, updated_at=now))
    db.add(
        Reminder(
            account_id=tenant.id,
            booking_id="7",
            event="reminder",
            offset_minutes=60,
            due_at=now - timedelta(minutes=1),
            status="pending",
            created_at=now,
        )
    )
    db.commit()
    woken = []

    class Dispatcher:
        def wake(self):
            woken.append(True)

    background.run_reminders(app, Dispatcher())
    assert woken == [True]
    assert listed(client, tenant, "fired") and db.scalar(select(Delivery.trigger)) == "reminder"
    background.run_reminders(app, Dispatcher())
    assert woken == [True]  # nothing more was due
