"""One HTTP delivery attempt: POST the signed bytes, record what came back."""

import asyncio
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import requests

from .guard import TargetBlocked, TargetGuard
from .pinning import GuardedResolver, check_aiohttp_host, guard_session

#: Exceptions that mean the attempt timed out (checked first: some are also
#: connection errors, the builtin TimeoutError is an OSError, and requests
#: reports a timeout while reading the body as a ConnectionError caused by one).
TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, requests.Timeout)

#: Exceptions that mean the receiver could not be reached or answered badly.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    requests.RequestException,
    OSError,
)

#: Exceptions for a URL that cannot be sent to at all (bad scheme, no host).
INVALID_URL_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)

#: How a refusal of the SSRF guard starts in the attempt's error.
BLOCKED = "blocked by the SSRF guard"

#: Root causes worth naming in plain words, looked for along the exception chain.
_CAUSES = (
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "DNS lookup failed"),
    (ConnectionResetError, "connection reset by peer"),
    (ssl.SSLError, "TLS handshake failed"),
    (INVALID_URL_ERRORS, "invalid URL"),
)


@dataclass(frozen=True)
class Outgoing:
    """The request of one attempt, headers already signed."""

    url: str
    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class AttemptResult:
    """What happened on one attempt, as recorded for the delivery log."""

    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    response_excerpt: bytes
    retry_after: str | None


class _Recorder:
    """Collects an attempt's facts as they arrive, so a failure midway keeps them."""

    def __init__(self, timeout: float, max_response_bytes: int) -> None:
        self.started_at = datetime.now(UTC)
        self._t0 = time.monotonic()
        self._timeout = timeout
        self._cap = max_response_bytes
        self.status_code: int | None = None
        self.error: str | None = None
        self.retry_after: str | None = None
        self.excerpt = bytearray()

    @property
    def room(self) -> int:
        return self._cap - len(self.excerpt)

    def response(self, status_code: int, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.retry_after = headers.get("retry-after")
        if 300 <= status_code <= 399:
            location = headers.get("location")
            self.error = f"redirect not followed: {status_code}" + (f" to {location}" if location else "")

    def failed(self, exc: BaseException) -> None:
        cause: BaseException | None = exc
        for _ in range(10):  # the chain is short; the bound guards against cycles
            if cause is None:
                break
            if isinstance(cause, TargetBlocked):
                self.error = f"{BLOCKED}: {cause}"
                return
            if isinstance(cause, TIMEOUT_ERRORS):
                self.error = f"timeout after {float(self._timeout)}s"
                return
            for kind, words in _CAUSES:
                if isinstance(cause, kind):
                    self.error = words
                    return
            cause = cause.__cause__ or cause.__context__
        self.error = f"connection error: {exc}"[:200]

    def result(self) -> AttemptResult:
        return AttemptResult(
            started_at=self.started_at,
            duration_ms=round((time.monotonic() - self._t0) * 1000),
            status_code=self.status_code,
            error=self.error,
            response_excerpt=bytes(self.excerpt[: self._cap]),
            retry_after=self.retry_after,
        )


def _request_headers(out: Outgoing) -> Mapping[str, str]:
    # We never decompress (a small gzip can expand enormously), so ask for
    # plain bytes: the recorded excerpt stays readable.
    if "accept-encoding" in out.headers:  # signing.webhook_headers sets it, in lower case
        return out.headers
    headers = dict(out.headers)
    if not any(name.lower() == "accept-encoding" for name in headers):
        headers["accept-encoding"] = "identity"
    return headers


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{parts.scheme}://{parts.netloc}".lower()


def _blocked(
    guard: TargetGuard,
    url: str,
    timeout: float,
    max_response_bytes: int,
    client_check: Callable[[TargetGuard, str], None] | None = None,
) -> AttemptResult | None:
    """The failed attempt of a URL the guard refuses as it stands (scheme, port, an address host)."""
    try:
        guard.check_url(url)
        if client_check is not None:
            client_check(guard, url)
    except TargetBlocked as exc:
        rec = _Recorder(timeout, max_response_bytes)
        rec.failed(exc)
        return rec.result()
    return None


class AsyncTransport:
    """Sends attempts on the dispatcher's asyncio loop over one pooled session.

    At most ``per_host_limit`` attempts run against one host and ``total_limit``
    overall; a slow host therefore cannot hold up the others. Waiting for a slot
    is not part of the attempt: its clock and timeout start once it has one.

    With a ``guard`` (the app always passes one) a URL is checked before it is
    sent and every address is checked as it is resolved; without one, targets
    are not restricted.
    """

    def __init__(
        self,
        timeout: float = 10.0,
        max_response_bytes: int = 4096,
        per_host_limit: int = 16,
        total_limit: int = 256,
        guard: TargetGuard | None = None,
    ) -> None:
        if per_host_limit < 1 or total_limit < 1:
            raise ValueError("per_host_limit and total_limit must be at least 1")
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.per_host_limit = per_host_limit
        self.total_limit = total_limit
        self.guard = guard
        self._session: aiohttp.ClientSession | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._slots_by_url: dict[str, asyncio.Semaphore] = {}  # saves parsing the URL on every send
        self._total_slots = asyncio.Semaphore(total_limit)

    def _open(self) -> aiohttp.ClientSession:
        # Made lazily: a session belongs to the loop running when it is created.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.total_limit,
                    limit_per_host=self.per_host_limit,
                    resolver=GuardedResolver(self.guard) if self.guard else None,
                ),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                auto_decompress=False,
            )
        return self._session

    async def send(self, out: Outgoing) -> AttemptResult:
        """POST ``out`` once; network problems come back in the result, never raised."""
        slot = self._slots_by_url.get(out.url)
        if slot is None:
            if self.guard is not None:
                blocked = _blocked(self.guard, out.url, self.timeout, self.max_response_bytes, check_aiohttp_host)
                if blocked is not None:
                    return blocked  # not remembered: a URL refused once is checked again next time
            origin = _origin(out.url)
            if origin not in self._host_slots:
                self._host_slots[origin] = asyncio.Semaphore(self.per_host_limit)
            slot = self._slots_by_url[out.url] = self._host_slots[origin]
        # Host slot first: a request queued for a slow host must not sit on a
        # slot of the shared total while it waits.
        async with slot, self._total_slots:
            return await self._attempt(out)

    async def _attempt(self, out: Outgoing) -> AttemptResult:
        rec = _Recorder(self.timeout, self.max_response_bytes)
        try:
            async with self._open().post(
                out.url,
                data=out.body,
                headers=_request_headers(out),
                allow_redirects=False,
            ) as resp:
                rec.response(resp.status, resp.headers)
                while rec.room > 0 and (chunk := await resp.content.read(rec.room)):
                    rec.excerpt += chunk
        except CONNECTION_ERRORS + TIMEOUT_ERRORS + (TargetBlocked,) as exc:
            rec.failed(exc)
        return rec.result()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def send_sync(
    out: Outgoing,
    timeout: float = 10.0,
    max_response_bytes: int = 4096,
    session: requests.Session | None = None,
    guard: TargetGuard | None = None,
) -> AttemptResult:
    """POST ``out`` once with ``requests``, for one-off sends like "test this hook".

    ``timeout`` bounds connecting and each read (as ``requests`` does), not the
    total; a body that stalls before the cap keeps its status but not its bytes.
    With a ``guard`` the URL is checked first and the connection opens only to
    addresses the guard checked as it resolved them (mounted on ``session``).
    """
    if guard is not None:
        blocked = _blocked(guard, out.url, timeout, max_response_bytes)
        if blocked is not None:
            return blocked
    own_session = session is None
    if session is None:
        session = requests.Session()
        # No proxy variables and no .netrc credentials sent to strangers.
        session.trust_env = False
    if guard is not None:
        guard_session(session, guard)
    rec = _Recorder(timeout, max_response_bytes)
    try:
        with session.post(
            out.url,
            data=out.body,
            headers=_request_headers(out),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as resp:
            rec.response(resp.status_code, resp.headers)
            for chunk in resp.iter_content(chunk_size=max(rec.room, 1)):
                rec.excerpt += chunk
                if rec.room <= 0:
                    break
    except CONNECTION_ERRORS + TIMEOUT_ERRORS + (TargetBlocked,) as exc:
        rec.failed(exc)
    finally:
        if own_session:
            session.close()
    return rec.result()
