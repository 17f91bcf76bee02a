"""A real webhook receiver on 127.0.0.1 for tests: records every request, answers as scripted."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hold: threading.Event | None = None  # answer only once this is set (or after 30 s)
    delay: float = 0.0  # the server waits this long before answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class WebhookReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self.defaults: dict[str, Answer] = {}
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._changed:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                    )
                    receiver._changed.notify_all()
                    script = receiver.scripts[self.path]
                    answer = script.popleft() if script else receiver.defaults.get(self.path, Answer())
                if answer.hold is not None:
                    answer.hold.wait(30)
                if answer.delay:
                    time.sleep(answer.delay)  # the receiver is slow on purpose; the test never sleeps
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a killed client resets; that is expected
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        """The next requests to `path` get these answers, in order; then the default (200)."""
        self.scripts[path].extend(answers)

    def received(self, path: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        """Wait until `predicate(requests)` holds; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"receiver: condition not met in {timeout}s; got {len(self.requests)} requests")
                self._changed.wait(remaining)
            return list(self.requests)

    def wait_count(self, n: int, path: str | None = None, timeout: float = 10.0) -> list[Received]:
        self.wait_for(lambda reqs: len([r for r in reqs if path is None or r.path == path]) >= n, timeout)
        return self.received(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll a condition on something other than the receiver (the database) until a deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met in {timeout}s")
        time.sleep(0.01)  # polling interval of a condition wait, not waiting for time to pass
