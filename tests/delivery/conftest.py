import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that can hold every answer until released.

    With ``first_bytes`` it sends the status, headers and those bytes at once and
    holds back only the rest of the body.
    """

    daemon_threads = True

    def __init__(self, hold: bool, first_bytes: bytes = b"") -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"
        self.first_bytes = first_bytes
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        first = self.server.first_bytes
        try:
            if first:
                self._start_answer(len(first) + 2)
                self.wfile.write(first)
            self.server.release.wait(timeout=10)
            if not first:
                self._start_answer(2)
            self.wfile.write(b"ok")
        except OSError:
            pass  # the client gave up waiting, as the timeout tests intend
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _start_answer(self, length: int) -> None:
        self.send_response(200)
        self.send_header("content-length", str(length))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Start receivers on demand: ``receiver(hold=True)`` answers only once released."""
    started: list[Receiver] = []

    def start(hold: bool = False, first_bytes: bytes = b"") -> Receiver:
        server = Receiver(hold, first_bytes)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url() -> Iterator[str]:
    """A URL on 127.0.0.1 on a bound port that is not listening: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
