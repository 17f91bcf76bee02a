"""The dispatcher: claims due deliveries, sends them concurrently, records the attempts in batches.

It runs an asyncio loop in a thread of its own, isolated from the web server. The
database work (claim, load, record) runs on one helper thread, in batches, so the
loop never waits on the database and the database sees few, large transactions.
New deliveries from this process's ingest arrive through `submit()` already leased,
so the first attempt starts right after the ingest commits, without a claim query.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from .. import observe
from ..db import write_lock
from . import smtp, store
from .guard import TargetGuard
from .jobs import Job
from .retry import RetryPolicy
from .signing import webhook_headers
from .transport import AsyncTransport, AttemptResult, Outgoing

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same aiohttp code runs markedly faster."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


@dataclass(frozen=True)
class DispatcherSettings:
    batch_size: int = 500  # deliveries claimed per query
    max_outstanding: int = 4096  # claimed and not yet recorded, all hooks together
    per_hook_outstanding: int = 1000  # beyond this a hook's deliveries are left for later claims
    lease: timedelta = timedelta(seconds=120)
    poll_interval: float = 1.0  # the longest the dispatcher sleeps without a wake
    timeout: float = 10.0
    max_response_bytes: int = 4096
    per_host_limit: int = 16
    total_limit: int = 64
    guard: TargetGuard | None = None  # the SSRF guard; None leaves targets unrestricted


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        owner: str,
        policy: RetryPolicy,
        settings: DispatcherSettings = DispatcherSettings(),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from ..services import utcnow

        self.sessions = sessions
        self.owner = owner
        self.policy = policy
        self.settings = settings
        self.clock = clock or utcnow
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatcher-db")
        self._started = threading.Event()
        self._stopping = False
        self._outstanding: Counter[str] = Counter()
        self._in_hand: set[str] = set()
        self._results: list[tuple[Job, AttemptResult]] = []
        self._backlog = False
        self._waiting_on: set[str] = set()  # hooks left out of the last claim for having too many in hand

    # ----- control, from any thread -----

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=f"dispatcher-{self.owner}", daemon=True)
            self._thread.start()
            self._started.wait(10)

    def wake(self) -> None:
        """Something may be due: look now instead of at the next tick."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def submit(self, jobs: Sequence[Job]) -> None:
        """Send deliveries that were leased to this dispatcher when they were stored."""
        loop = self._loop
        if jobs and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._take, list(jobs))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; let attempts in flight finish for up to `timeout`; give back the rest."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(self._begin_stop, timeout)
        thread.join(timeout + 10)
        self._db.shutdown(wait=True)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ----- the loop -----

    def _main(self) -> None:
        loop = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._run())
        finally:
            loop.close()

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        self._recorded = asyncio.Event()
        self._stop_deadline: float | None = None
        self._tasks: set[asyncio.Task] = set()
        self.transport = AsyncTransport(
            timeout=self.settings.timeout,
            max_response_bytes=self.settings.max_response_bytes,
            per_host_limit=self.settings.per_host_limit,
            total_limit=self.settings.total_limit,
            guard=self.settings.guard,
        )
        recorder = asyncio.create_task(self._record_loop())
        renewer = asyncio.create_task(self._renew_loop())
        self._started.set()
        try:
            while not self._stopping:
                # Cleared before the claim, not after it: a wake that comes while the claim's
                # query runs (a commit it could not yet see) then ends the next sleep at once.
                self._wake.clear()
                claimed = await self._claim()
                if claimed < self.settings.batch_size or self._full():
                    await self._sleep()
            await self._drain()
        finally:
            recorder.cancel()
            renewer.cancel()
            await self._flush()
            await self.transport.close()

    def _full(self) -> bool:
        return len(self._in_hand) >= self.settings.max_outstanding

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)
        except TimeoutError:
            pass

    async def _claim(self) -> int:
        room = self.settings.max_outstanding - len(self._in_hand)
        if room <= 0:
            return 0
        busy = [hook for hook, n in self._outstanding.items() if n >= self.settings.per_hook_outstanding]
        limit = min(room, self.settings.batch_size)
        try:
            jobs = await asyncio.get_running_loop().run_in_executor(self._db, self._claim_jobs, limit, busy)
        except Exception:  # the database may be away for a while: keep going, try again later
            log.exception("claiming due deliveries failed")
            return 0
        self._take(jobs)
        # More may be due than one claim took: look again as soon as there is room. Hooks left
        # out for having too many in hand are looked at again once half of theirs are done,
        # not after every recorded batch (each look scans past all of their due deliveries).
        self._backlog = len(jobs) >= limit
        self._waiting_on = set(busy)
        return len(jobs)

    def _claim_jobs(self, limit: int, busy: list[str]) -> list[Job]:
        now = self.clock()
        with self.sessions() as session:
            if not store.any_due(session, now, busy):
                return []
            with write_lock(session):
                ids = store.claim_due(session, self.owner, now, self.settings.lease, limit, busy)
            return store.load_jobs(session, ids, now)

    def _take(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.delivery_id in self._in_hand:
                continue
            self._in_hand.add(job.delivery_id)
            self._outstanding[job.hook_id] += 1
            task = asyncio.get_running_loop().create_task(self._send(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, job: Job) -> None:
        if smtp.is_smtp(job.url):  # an e-mail hook with its own mail server: smtplib, on threads of its own
            result = await smtp.send_in_thread(
                self.sessions, job, self.settings.timeout, self.settings.max_response_bytes, self.settings.guard
            )
        else:
            headers = webhook_headers(job.delivery_id, int(time.time()), job.body, job.secrets)
            result = await self.transport.send(Outgoing(job.url, job.body, headers))
        self._results.append((job, result))
        self._recorded.set()

    async def _record_loop(self) -> None:
        while True:
            await self._recorded.wait()
            self._recorded.clear()
            await self._flush()

    async def _flush(self) -> None:
        if not self._results:
            return
        batch, self._results = self._results, []
        try:
            await asyncio.get_running_loop().run_in_executor(self._db, self._record, batch)
        except Exception:
            # Not recorded: the leases run out and the deliveries are attempted again (at least once).
            log.exception("recording %d attempts failed", len(batch))
        for job, _ in batch:
            self._in_hand.discard(job.delivery_id)
            self._outstanding[job.hook_id] -= 1
            if self._outstanding[job.hook_id] <= 0:
                del self._outstanding[job.hook_id]
        if not self._full() and (self._backlog or self._room_for_waiting()):
            self._wake.set()

    async def _renew_loop(self) -> None:
        """Every third of a lease, extend the leases of what is still in hand."""
        every = self.settings.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)  # the renewal period itself, not a wait for work
            held = list(self._in_hand)
            if held:
                try:
                    await asyncio.get_running_loop().run_in_executor(self._db, self._renew, held)
                except Exception:
                    log.exception("renewing %d leases failed", len(held))

    def _renew(self, held: list[str]) -> None:
        with self.sessions() as session, write_lock(session):
            store.renew(session, self.owner, held, self.clock(), self.settings.lease)

    def _room_for_waiting(self) -> bool:
        half = self.settings.per_hook_outstanding // 2
        return any(self._outstanding.get(hook, 0) <= half for hook in self._waiting_on)

    def _record(self, batch: list[tuple[Job, AttemptResult]]) -> None:
        with self.sessions() as session, write_lock(session):
            outcomes = store.record(session, self.owner, batch, self.clock(), self.policy)
        observe.attempts(batch, [o.name for o in outcomes])  # counted and logged off the write lock

    # ----- stopping -----

    def _begin_stop(self, timeout: float) -> None:
        self._stopping = True
        self._stop_deadline = time.monotonic() + timeout
        self._wake.set()

    async def _drain(self) -> None:
        """Wait for attempts in flight until the deadline, then cancel the rest and release them."""
        deadline = self._stop_deadline or time.monotonic()
        pending = set(self._tasks)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._flush()
        unsent = list(self._in_hand)
        if unsent:
            with self.sessions() as session, write_lock(session):
                store.release(session, self.owner, unsent)
