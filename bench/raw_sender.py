"""Baseline: the raw aiohttp sender — POST the same 1 KB body as fast as possible, N in flight."""

from __future__ import annotations

import asyncio
import time

import aiohttp


async def send_all(urls: list[str], count: int, in_flight: int, body: bytes, seconds: float) -> tuple[int, float]:
    """Send up to `count` POSTs spread over `urls` (or until `seconds`); (sent, elapsed)."""
    sent = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=in_flight, limit_per_host=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n: int) -> None:
            nonlocal sent
            i = n
            while sent < count and time.monotonic() < deadline:
                sent += 1
                async with session.post(urls[i % len(urls)], data=body, headers={"content-type": "application/json"}) as r:
                    await r.read()
                i += in_flight

        start = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(in_flight)))
        return sent, time.monotonic() - start


def rate(urls: list[str], count: int, in_flight: int = 64, body: bytes = b"x", seconds: float = 10.0) -> float:
    sent, elapsed = asyncio.run(send_all(urls, count, in_flight, body, seconds))
    return sent / elapsed
