from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.delivery.retry import RetryPolicy, Verdict, classify, parse_retry_after

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
DEFAULT_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


@pytest.mark.parametrize(
    ("status_code", "verdict"),
    [
        (200, Verdict.SUCCEEDED),
        (201, Verdict.SUCCEEDED),
        (204, Verdict.SUCCEEDED),
        (299, Verdict.SUCCEEDED),
        (301, Verdict.RETRY),
        (302, Verdict.RETRY),
        (400, Verdict.RETRY),
        (404, Verdict.RETRY),
        (408, Verdict.RETRY),
        (410, Verdict.GONE),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (None, Verdict.RETRY),
    ],
)
def test_classify(status_code, verdict):
    assert classify(status_code) is verdict


@pytest.mark.parametrize("rand", [0.0, 0.25, 0.5, 0.999999])
def test_default_schedule_stepped_to_the_end(rand):
    policy = RetryPolicy()
    assert policy.schedule == DEFAULT_SCHEDULE
    now = NOW
    for failures, scheduled in enumerate(DEFAULT_SCHEDULE, start=1):
        due = policy.next_attempt_at(failures, now, rand=rand)
        assert due is not None
        delay = (due - now).total_seconds()
        assert scheduled * 0.9 <= delay <= scheduled * 1.1
        now = due
    assert policy.next_attempt_at(len(DEFAULT_SCHEDULE) + 1, now, rand=rand) is None


def test_jitter_bounds_are_exact():
    policy = RetryPolicy()
    assert policy.next_attempt_at(2, NOW, rand=0.5) == NOW + timedelta(seconds=300)
    assert policy.next_attempt_at(2, NOW, rand=0.0) == NOW + timedelta(seconds=270)
    assert RetryPolicy(jitter=0).next_attempt_at(2, NOW, rand=0.0) == NOW + timedelta(seconds=300)


def test_attempts_made_starts_at_one():
    with pytest.raises(ValueError, match="attempts_made"):
        RetryPolicy().next_attempt_at(0, NOW)


def test_retry_after_can_only_lengthen_the_delay_up_to_the_cap():
    policy = RetryPolicy()
    assert policy.next_attempt_at(1, NOW, retry_after=120) == NOW + timedelta(seconds=120)
    assert policy.next_attempt_at(2, NOW, retry_after=10) == NOW + timedelta(seconds=300)
    assert policy.next_attempt_at(1, NOW, retry_after=10**9) == NOW + timedelta(days=1)


def test_retry_after_never_revives_an_exhausted_schedule():
    assert RetryPolicy(schedule=(5,)).next_attempt_at(2, NOW, retry_after=60) is None


def test_parse_retry_after_seconds():
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_parse_retry_after_http_date():
    value = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert value == "Wed, 01 Jan 2025 12:01:30 GMT"
    assert parse_retry_after(value, NOW) == 90.0
    delay = parse_retry_after(value, NOW)
    assert RetryPolicy().next_attempt_at(1, NOW, retry_after=delay) == NOW + timedelta(seconds=90)


@pytest.mark.parametrize(
    "value",
    [None, "", "soon", "-5", "nan", "inf", "1e400", "Wed, 01 Jan 2025 11:00:00 GMT"],
)
def test_parse_retry_after_rejects_garbage_and_the_past(value):
    assert parse_retry_after(value, NOW) is None


def test_custom_schedule_from_json():
    policy = RetryPolicy.from_config("[1, 2.5, 60]", jitter=0)
    assert policy.schedule == (1, 2.5, 60)
    assert policy.next_attempt_at(2, NOW) == NOW + timedelta(seconds=2.5)
    assert policy.next_attempt_at(3, NOW) == NOW + timedelta(seconds=60)
    assert policy.next_attempt_at(4, NOW) is None


def test_from_config_defaults_and_lists():
    assert RetryPolicy.from_config(None) == RetryPolicy()
    assert RetryPolicy.from_config([10, 20]).schedule == (10, 20)


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("[]", "empty"),
        ([], "empty"),
        ("[5, -1]", "entry 1 must be a finite number >= 0"),
        ('[5, "60"]', "entry 1 must be a number"),
        ("[true]", "entry 0 must be a number"),
        ("[NaN]", "finite"),
        ("5", "must be a list"),
        ('{"first": 5}', "must be a list"),
        ("five minutes", "not valid JSON"),
    ],
)
def test_bad_schedules_are_rejected(schedule, problem):
    with pytest.raises(ValueError, match=problem):
        RetryPolicy.from_config(schedule)


def test_bad_jitter_is_rejected():
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy.from_config(None, jitter=1.5)
