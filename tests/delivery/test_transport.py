import asyncio
import json
from collections.abc import Callable
from datetime import UTC

import pytest
import requests

from connector.delivery.signing import new_secret, webhook_headers
from connector.delivery.transport import (
    AsyncTransport,
    AttemptResult,
    Outgoing,
    send_sync,
)

BODY = json.dumps({"title": "注文が作成されました", "id": 7}, ensure_ascii=False).encode()
HEADERS = webhook_headers("msg_1", 1700000000, BODY, [new_secret()])


def outgoing(url: str) -> Outgoing:
    return Outgoing(url=url, body=BODY, headers=HEADERS)


def send_async(out: Outgoing, **options: float) -> AttemptResult:
    async def run() -> AttemptResult:
        transport = AsyncTransport(**options)
        try:
            return await transport.send(out)
        finally:
            await transport.close()

    return asyncio.run(run())


@pytest.fixture(params=["async", "sync"])
def send(request: pytest.FixtureRequest) -> Callable[..., AttemptResult]:
    """Every contract test runs against both transports."""
    return send_async if request.param == "async" else send_sync


def test_success_sends_exact_bytes_and_headers(send, httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_json({"ok": True})

    result = send(outgoing(httpserver.url_for("/hook")))

    assert (result.status_code, result.error) == (200, None)
    assert json.loads(result.response_excerpt) == {"ok": True}
    assert result.started_at.tzinfo is UTC
    assert result.duration_ms >= 0
    [(request, _)] = httpserver.log
    assert request.get_data() == BODY
    for name, value in HEADERS.items():
        assert request.headers[name] == value


def test_response_body_is_capped(send, httpserver):
    httpserver.expect_request("/hook").respond_with_data(b"x" * 1_000_000)

    result = send(outgoing(httpserver.url_for("/hook")))
    assert result.status_code == 200
    assert result.response_excerpt == b"x" * 4096

    result = send(outgoing(httpserver.url_for("/hook")), max_response_bytes=10)
    assert result.response_excerpt == b"x" * 10


def test_redirect_is_not_followed(send, httpserver):
    target = httpserver.url_for("/elsewhere")
    httpserver.expect_request("/hook").respond_with_data("", status=302, headers={"Location": target})

    result = send(outgoing(httpserver.url_for("/hook")))

    assert result.status_code == 302
    assert result.error == f"redirect not followed: 302 to {target}"
    assert [request.path for request, _ in httpserver.log] == ["/hook"]


@pytest.mark.parametrize("status", [410, 500])
def test_error_statuses_are_returned(send, httpserver, status):
    httpserver.expect_request("/hook").respond_with_data("nope", status=status)

    result = send(outgoing(httpserver.url_for("/hook")))

    assert (result.status_code, result.error) == (status, None)
    assert result.response_excerpt == b"nope"


def test_retry_after_is_returned_raw(send, httpserver):
    httpserver.expect_request("/hook").respond_with_data("busy", status=503, headers={"Retry-After": "120"})

    result = send(outgoing(httpserver.url_for("/hook")))

    assert (result.status_code, result.retry_after) == (503, "120")


def test_timeout(send, receiver):
    slow = receiver(hold=True)

    result = send(outgoing(slow.url), timeout=0.3)

    assert (result.status_code, result.error) == (None, "timeout after 0.3s")
    assert 250 <= result.duration_ms < 5000


def test_timeout_mid_body_keeps_the_status(send, receiver):
    stalling = receiver(hold=True, first_bytes=b"accepted, ")

    result = send(outgoing(stalling.url), timeout=0.3)

    assert (result.status_code, result.error) == (200, "timeout after 0.3s")
    # requests buffers a read until the chunk is full, so only aiohttp can
    # hand back the bytes that came before the stall.
    expected = b"accepted, " if send is send_async else b""
    assert result.response_excerpt == expected


def test_connection_refused(send, closed_port_url):
    result = send(outgoing(closed_port_url))

    assert (result.status_code, result.error) == (None, "connection refused")
    assert result.response_excerpt == b""


def test_unusable_url_is_an_error_not_an_exception(send):
    result = send(outgoing("ftp://127.0.0.1/hook"))

    assert (result.status_code, result.error) == (None, "invalid URL")


def test_send_sync_uses_the_given_session(httpserver):
    httpserver.expect_request("/hook", headers={"x-from-session": "yes"}).respond_with_data("")
    with requests.Session() as session:
        session.headers["x-from-session"] = "yes"
        result = send_sync(outgoing(httpserver.url_for("/hook")), session=session)
    assert result.status_code == 200


def test_a_slow_host_does_not_delay_a_fast_host(receiver):
    slow, fast = receiver(hold=True), receiver(hold=False)

    async def scenario() -> None:
        transport = AsyncTransport(timeout=5, per_host_limit=4, total_limit=8)
        loop = asyncio.get_running_loop()
        finished: dict[str, list[float]] = {"slow": [], "fast": []}

        async def deliver(kind: str, url: str) -> AttemptResult:
            result = await transport.send(outgoing(url))
            finished[kind].append(loop.time())
            return result

        try:
            slow_tasks = [asyncio.create_task(deliver("slow", slow.url)) for _ in range(20)]
            fast_tasks = [asyncio.create_task(deliver("fast", fast.url)) for _ in range(20)]
            fast_results = await asyncio.wait_for(asyncio.gather(*fast_tasks), timeout=3)
            assert not any(task.done() for task in slow_tasks)
            slow.release.set()
            slow_results = await asyncio.wait_for(asyncio.gather(*slow_tasks), timeout=5)
        finally:
            slow.release.set()
            await transport.close()

        assert [r.status_code for r in fast_results + slow_results] == [200] * 40
        assert max(finished["fast"]) < min(finished["slow"])
        assert slow.max_in_flight == 4

    asyncio.run(scenario())
