"""Reminder rules as data: booking times, cancellation, due times."""

from datetime import UTC, datetime

import pytest

from connector import reminders
from connector.reminders import Due, Rule

TOKYO = reminders.timezone("Asia/Tokyo")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-12-05T10:00:00+09:00", datetime(2026, 12, 5, 1, 0, tzinfo=UTC)),
        ("2026-12-05T01:00:00Z", datetime(2026, 12, 5, 1, 0, tzinfo=UTC)),
        ("2026-12-05T10:00", datetime(2026, 12, 5, 1, 0, tzinfo=UTC)),  # no offset: the account's zone
        ("2026-12-05 10:00:00", datetime(2026, 12, 5, 1, 0, tzinfo=UTC)),
        ("next tuesday", None),
        ("", None),
        (None, None),
        (20261205, None),
    ],
)
def test_booking_times(value, expected):
    assert reminders.booking_time(value, TOKYO) == expected


def test_unknown_time_zone():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        reminders.timezone("Mars/Olympus")


@pytest.mark.parametrize(
    "event, data, cancelled",
    [
        ("destroy", {}, True),
        ("edit", {"deleted": True}, True),
        ("edit", {"waitlisted": "true"}, True),
        ("place", {"waitlisted": False, "deleted": False}, False),
        ("create", {}, False),
    ],
)
def test_cancellation(event, data, cancelled):
    assert reminders.is_cancelled(event, data) is cancelled


def test_due_times_follow_start_finish_and_filters():
    rules = [
        Rule("reminder", 1440, {}),
        Rule("reminder", 60, {"res_name": "Ms. Tanaka"}),
        Rule("reminder", 60, {}),  # the same outcome as the one above: one reminder
        Rule("follow_up", 120, {"schedule_id": 99}),
        Rule("follow_up", 30, {}),
    ]
    booking = {"start": "2026-12-05T10:00:00+09:00", "finish": "2026-12-05T11:00:00+09:00", "res_name": "Ms. Tanaka"}
    assert reminders.due_times(rules, booking, TOKYO) == {
        Due("reminder", 1440, datetime(2026, 12, 4, 1, 0, tzinfo=UTC)),
        Due("reminder", 60, datetime(2026, 12, 5, 0, 0, tzinfo=UTC)),
        Due("follow_up", 30, datetime(2026, 12, 5, 2, 30, tzinfo=UTC)),
    }
    # Without a finish a follow-up counts from the start; without a start there is nothing to count from.
    assert reminders.due_times([Rule("follow_up", 30, {})], {"start": "2026-12-05T10:00"}, TOKYO) == {
        Due("follow_up", 30, datetime(2026, 12, 5, 1, 30, tzinfo=UTC))
    }
    assert reminders.due_times(rules, {"res_name": "Ms. Tanaka"}, TOKYO) == set()


def test_rule_checks_name_the_rule():
    errors = reminders.check_rules([{"event": "reminder", "offset_minutes": 5, "filters": {"price": {"between": 1}}}], 50)
    assert "unknown operator" in errors["rules.0.filters.price.between"]
    assert "at most" in reminders.check_rules([{"event": "reminder", "offset_minutes": 1}] * 21, 50)["rules"]
