"""The SSRF guard inside the HTTP clients: connect only to addresses the guard has just checked.

Checking a URL and then letting the client resolve it again would leave a gap a
rebinding DNS server can use. Here the clients' own resolution goes through the
guard: aiohttp through its resolver hook, requests (urllib3) through the
connection's socket factory. Either way the socket is opened to an address
that was checked in the same step; the Host header and the TLS server name stay
the URL's own.
"""

from __future__ import annotations

import asyncio
import socket
from functools import lru_cache
from typing import Any

import requests
from aiohttp.abc import AbstractResolver, ResolveResult
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import NameResolutionError
from yarl import URL

from .guard import TargetBlocked, TargetGuard, literal_address

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver: every address of every lookup checked, or TargetBlocked.

    aiohttp caches what this returns (checked addresses only) and connects to
    those; a host that is an address never reaches a resolver, so the transport
    checks such URLs itself (`TargetGuard.check_url`).
    """

    def __init__(self, guard: TargetGuard) -> None:
        self.guard = guard

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(None, self.guard.lookup_checked, host, port)
        results: list[ResolveResult] = []
        for address in addresses:
            found = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family in (socket.AF_UNSPEC, found):
                results.append({"hostname": host, "host": address, "port": port, "family": found, "proto": 0, "flags": _NUMERIC})
        if not results:
            raise OSError(f"{host} has no address of the family asked for")
        return results

    async def close(self) -> None:
        pass


def check_aiohttp_host(guard: TargetGuard, url: str) -> None:
    """The host and port as aiohttp will read them (yarl), checked when the host is an address.

    aiohttp connects to an address host without asking its resolver; checking
    the host as yarl parses it leaves no room between two URL parsers.
    """
    try:
        parsed = URL(url)
    except ValueError:
        return  # aiohttp will not send it either
    address = literal_address(parsed.raw_host or "")
    if address is not None:
        guard.check_address(address)
    if parsed.port is not None and not guard.port_allowed(parsed.port):
        raise TargetBlocked(f"port {parsed.port} is not allowed (CONNECTOR_TARGET_PORTS is {guard.ports_text})")


class _GuardedConnection:
    """urllib3 connection mix-in: resolve through the guard, then open the socket to a checked address."""

    guard: TargetGuard
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            addresses = self.guard.lookup_checked(name, self.port)  # type: ignore[attr-defined]
        except socket.gaierror as exc:
            raise NameResolutionError(name, self, exc) from exc  # type: ignore[arg-type]
        error: Exception | None = None
        for address in addresses:
            # urllib3 connects to `_dns_host`; `host` (Host header, TLS name) is read
            # from it too, so the name is put back before anything else runs.
            self._dns_host = address
            try:
                return super()._new_conn()  # type: ignore[misc]
            except OSError as exc:  # urllib3's connection errors are OSErrors
                error = exc
            finally:
                self._dns_host = name
        raise error or OSError(f"{name} has no address")


@lru_cache(maxsize=8)
def _pool_classes(guard: TargetGuard) -> dict[str, type]:
    http = type("GuardedHTTPConnection", (_GuardedConnection, HTTPConnection), {"guard": guard})
    https = type("GuardedHTTPSConnection", (_GuardedConnection, HTTPSConnection), {"guard": guard})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose connections open only to addresses the guard allows."""

    def __init__(self, guard: TargetGuard, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.guard)


def guard_session(session: requests.Session, guard: TargetGuard) -> requests.Session:
    """Mount the guarded adapter for http and https on ``session`` (and return it)."""
    adapter = GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
