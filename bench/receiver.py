"""A fast webhook receiver for benchmarks: raw asyncio HTTP/1.1 on 127.0.0.1, keep-alive, 200 "ok".

`python bench/receiver.py PORT [PORT ...] [--slow PORT] [--latency]` serves each port in one
process. `GET /stats` on any port answers {"count": n, "by_port": {...}, "latencies_ms": [...]}.
A --slow port answers after 10 s; --latency records now - the payload's `sent_at` per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Stats:
    def __init__(self) -> None:
        self.by_port: Counter[int] = Counter()
        self.latencies_ms: list[float] = []


class ReceiverProtocol(asyncio.Protocol):
    def __init__(self, port: int, stats: Stats, slow: bool, latency: bool) -> None:
        self.port, self.stats, self.slow, self.latency = port, stats, slow, latency
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body, self.buffer = self.buffer[head_end + 4 : end], self.buffer[end:]
            self.handle(head, body)

    def handle(self, head: str, body: bytes) -> None:
        if head.startswith("GET /stats"):
            stats = {
                "count": sum(self.stats.by_port.values()),
                "by_port": self.stats.by_port,
                "latencies_ms": self.stats.latencies_ms,
            }
            payload = json.dumps(stats).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
            return
        if head.startswith("POST /reset"):
            self.stats.by_port.clear()
            self.stats.latencies_ms.clear()
            self.transport.write(OK)
            return
        self.stats.by_port[self.port] += 1
        if self.latency:
            try:
                sent_at = json.loads(body)["sent_at"]
                self.stats.latencies_ms.append((time.time() - sent_at) * 1000)
            except (ValueError, KeyError, TypeError):
                pass
        if self.slow:
            asyncio.get_running_loop().call_later(10, self._answer_late)
        else:
            self.transport.write(OK)

    def _answer_late(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(OK)


async def serve(ports: list[int], slow: set[int], latency: bool) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda p=p: ReceiverProtocol(p, stats, p in slow, latency), "127.0.0.1", p, backlog=1024)
        for p in ports
    ]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ports", type=int, nargs="+")
    parser.add_argument("--slow", type=int, action="append", default=[])
    parser.add_argument("--latency", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.ports, set(args.slow), args.latency))


if __name__ == "__main__":
    main()
