"""Rate limits per API key: a token bucket each, 429 with Retry-After, tested on an injected clock."""

import pytest
from sqlalchemy import func, select

from connector.api.limits import RATE_LIMITS, RateLimits
from connector.models import Event
from connector.ratelimit import Rate, TokenBuckets, parse_rate, retry_after
from connector.services import accounts, utcnow
from tests.api.test_errors import assert_error
from tests.conftest import app_with, make_tenant

EVENT = {"object": "user", "event": "new", "role": 3, "data": {"id": 1}}


def test_a_bucket_holds_the_burst_then_refills():
    buckets = TokenBuckets(Rate(3, 1.0, "3/second"))
    assert [buckets.take("k", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", 100.0) == pytest.approx(1 / 3)
    assert buckets.take("other", 100.0) == 0.0  # one bucket per key
    assert buckets.take("k", 100.34) == 0.0  # a third of a second later: one token back
    assert buckets.take("k", 100.34) > 0
    assert [buckets.take("k", 200.0) for _ in range(4)].count(0.0) == 3  # never more than the burst


def test_a_refused_request_spends_nothing():
    buckets = TokenBuckets(Rate(1, 60.0, "1/minute"))
    assert buckets.take("k", 0.0) == 0.0
    assert buckets.take("k", 30.0) == pytest.approx(30.0)
    assert buckets.take("k", 59.0) == pytest.approx(1.0)
    assert buckets.take("k", 60.0) == 0.0


@pytest.mark.parametrize(
    "value, expected",
    [
        ("100/second", (100, 1.0)),
        ("6000/minute", (6000, 60.0)),
        ("5/s", (5, 1.0)),
        ("10/min", (10, 60.0)),
        ("3/hours", (3, 3600.0)),
        ("7", (7, 1.0)),
        (7, (7, 1.0)),
        ("0", None),
        (0, None),
        ("", None),
        ("off", None),
        (None, None),
    ],
)
def test_rate_settings(value, expected):
    rate = parse_rate(value)
    assert (rate and (rate.count, rate.period)) == expected


@pytest.mark.parametrize("value", ["2/day", "x/s", "-1/s", "1.5/s"])
def test_bad_rate_settings_are_named(value):
    with pytest.raises(ValueError, match="CONNECTOR_RATE_LIMIT_API"):
        parse_rate(value, "CONNECTOR_RATE_LIMIT_API")


def test_retry_after_is_whole_seconds_and_never_zero():
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 19.5)] == [1, 1, 2, 20]


@pytest.fixture
def limited_app(tmp_path, migrated_template):
    app = app_with(tmp_path / "limited.sqlite", migrated_template, RATE_LIMIT_INGEST="2/second", RATE_LIMIT_API="3/minute")
    now = [1000.0]
    app.extensions[RATE_LIMITS].clock = lambda: now[0]
    app.now = now  # the test moves the clock
    yield app
    app.extensions["connector.db"].dispose()


def ingest(client, tenant):
    return client.post("/api/v1/events", json=EVENT, headers=tenant.headers)


def test_ingest_over_the_limit_is_429_with_retry_after(limited_app):
    client, tenant = limited_app.test_client(), make_tenant(limited_app, "studio")
    assert [ingest(client, tenant).status_code for _ in range(2)] == [202, 202]
    response = ingest(client, tenant)
    assert_error(response, 429, "rate limit of 2/second per API key", "CONNECTOR_RATE_LIMIT_INGEST")
    assert response.headers["Retry-After"] == "1"
    batch = client.post("/api/v1/events/batch", json=[EVENT], headers=tenant.headers)
    assert batch.status_code == 429  # a batch is an ingest request too
    with limited_app.extensions["connector.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 2  # the refused ones stored nothing
    limited_app.now[0] += 0.5
    assert ingest(client, tenant).status_code == 202
    assert ingest(client, tenant).status_code == 429


def test_each_key_has_its_own_bucket(limited_app):
    client, tenant, other = limited_app.test_client(), make_tenant(limited_app, "studio"), make_tenant(limited_app, "other")
    with limited_app.extensions["connector.db"].session() as session:
        _, second_key = accounts.issue_key(session, "studio", utcnow())
    for _ in range(2):
        ingest(client, tenant)
    assert ingest(client, tenant).status_code == 429
    assert ingest(client, other).status_code == 202
    headers = {"X-API-Key": second_key}
    assert client.post("/api/v1/events", json=EVENT, headers=headers).status_code == 202


def test_the_rest_of_the_api_has_its_own_limit(limited_app):
    client, tenant = limited_app.test_client(), make_tenant(limited_app, "studio")
    for _ in range(2):
        ingest(client, tenant)
    assert ingest(client, tenant).status_code == 429
    assert [client.get("/api/v1/me", headers=tenant.headers).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/hooks", headers=tenant.headers)
    assert_error(response, 429, "3/minute", "CONNECTOR_RATE_LIMIT_API")
    assert response.headers["Retry-After"] == "20"
    limited_app.now[0] += 20
    assert client.get("/api/v1/me", headers=tenant.headers).status_code == 200


def test_unauthenticated_and_public_routes_are_not_counted(limited_app):
    client = limited_app.test_client()
    assert [client.get("/api/v1/me").status_code for _ in range(5)] == [401] * 5
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5


def test_off_by_default_and_then_nothing_runs(app, client, tenant):
    assert app.config["RATE_LIMIT_INGEST"] == "" and app.config["RATE_LIMIT_API"] == ""
    assert RATE_LIMITS not in app.extensions
    assert not any(isinstance(getattr(f, "__self__", None), RateLimits) for f in app.before_request_funcs[None])
    assert [ingest(client, tenant).status_code for _ in range(20)] == [202] * 20
