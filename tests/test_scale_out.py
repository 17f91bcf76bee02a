"""Scale out on PostgreSQL: 2 web processes and 3 worker processes on one database.

10,000 events × 3 subscribers, published over HTTP through both web processes (which only
store: CONNECTOR_DISPATCHER=off); the three workers deliver from the shared queue. Each
scenario runs on a fresh database of its own; `-s` shows the figures. The runner is
`python -m tests.scale_out [--kill]`.
"""

import pytest

from tests import pg, scale_out

pytestmark = pytest.mark.skipif(not pg.available(), reason=f"no PostgreSQL server at {pg.SERVER_URL}")

EVENTS, SUBSCRIBERS = 10_000, 3
DELIVERIES = EVENTS * SUBSCRIBERS


def test_three_workers_deliver_every_event_to_every_subscriber_exactly_once():
    report = scale_out.run(events=EVENTS, subscribers=SUBSCRIBERS, web_processes=2, workers=3, log=lambda *_: None)
    print(report)
    print(scale_out.summary(report))
    assert report["events_accepted"] == EVENTS
    assert report["deliveries_by_status"] == {"succeeded": DELIVERIES}
    assert report["lost"] == 0, report
    assert report["unexpected_pairs"] == 0, report
    assert report["pairs_answered_twice_or_more"] == 0, report
    assert report["answered"] == DELIVERIES, "no webhook-id was answered twice"
    assert report["duplicates"] == 0, report
    assert report["attempts_recorded"] == DELIVERIES, "one attempt per delivery"
    assert all(report["attempts_by_worker"].values()), f"all three workers delivered: {report['attempts_by_worker']}"
    assert sum(report["attempts_by_worker"].values()) == DELIVERIES


def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_are_counted():
    report = scale_out.run(events=EVENTS, subscribers=SUBSCRIBERS, web_processes=2, workers=3, kill=True, log=lambda *_: None)
    print(report)
    print(scale_out.summary(report))
    assert report["events_accepted"] == EVENTS
    assert 0 < report["killed"]["answered_before"] < DELIVERIES, "killed mid-run"
    assert report["deliveries_by_status"] == {"succeeded": DELIVERIES}
    assert report["lost"] == 0, report
    assert report["unexpected_pairs"] == 0, report
    assert report["answered"] == DELIVERIES + report["duplicates"]
    assert all(report["attempts_by_worker"].values()), f"all three workers delivered: {report['attempts_by_worker']}"
