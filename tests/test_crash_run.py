"""The crash run, reduced: SIGKILLs and a 30 % failing network lose no accepted event.

The full run (5,000 events) is `python -m tests.crash_run`; see the README.
"""

from tests import crash_run


def test_sigkill_three_times_under_failures_loses_nothing():
    report = crash_run.run(events=300, kills=3, batch=25, publish_seconds=4.0, deadline=240.0, log=lambda *_: None)
    print(report)
    assert report["events_accepted"] == 300, "every batch was accepted in the end (retried with its Idempotency-Key)"
    assert len(report["kills"]) >= 3
    assert sum(report["receiver_failures"].values()) > 0, "the receivers did fail"
    assert report["deliveries_by_status"] == {"succeeded": 600}
    assert report["lost"] == 0, report
