"""A bounded HTTP load generator on 127.0.0.1: N concurrent POSTs for a fixed time or count."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiohttp


async def _run(url: str, make_body: Callable[[int], bytes], headers: dict, concurrency: int, seconds: float, count: int):
    done, errors = 0, 0
    next_i = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal done, errors, next_i
            while time.monotonic() < deadline and next_i < count:
                i, next_i = next_i, next_i + 1
                async with session.post(url, data=make_body(i), headers=headers) as resp:
                    await resp.read()
                    if resp.status < 300:
                        done += 1
                    else:
                        errors += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, errors, time.monotonic() - start


def post_rate(url: str, make_body: Callable[[int], bytes], headers: dict, concurrency=16, seconds=5.0, count=10**9) -> dict:
    done, errors, elapsed = asyncio.run(_run(url, make_body, headers, concurrency, seconds, count))
    return {"requests": done, "errors": errors, "seconds": round(elapsed, 2), "per_second": round(done / elapsed, 1)}


async def _paced(url: str, make_body: Callable[[int], bytes], headers: dict, rate: float, seconds: float) -> int:
    sent = 0
    async with aiohttp.ClientSession() as session:
        tasks = []
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                tasks.append(asyncio.ensure_future(_post(session, url, make_body(sent), headers)))
                sent += 1
            await asyncio.sleep(0.001)  # the pacing clock of the load generator
        await asyncio.gather(*tasks)
    return sent


async def _post(session, url, body, headers) -> None:
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()


def paced(url: str, make_body: Callable[[int], bytes], headers: dict, rate: float, seconds: float) -> int:
    """POST at a steady `rate` per second for `seconds`; how many were sent."""
    return asyncio.run(_paced(url, make_body, headers, rate, seconds))


def get_json(url: str) -> dict:
    async def fetch():
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            return json.loads(await resp.read())

    return asyncio.run(fetch())


def reset(url: str) -> None:
    async def post():
        async with aiohttp.ClientSession() as session, session.post(url) as resp:
            await resp.read()

    asyncio.run(post())
