"""The SSRF guard: which target URLs and addresses a hook may reach (standard library only).

A target must be http or https, on an allowed port, and every address its host
is or resolves to must be public: loopback, private, link-local (cloud metadata
lives there), unique-local, multicast, unspecified, reserved and other
non-global addresses are refused, in IPv4 and IPv6, IPv4-mapped and NAT64/6to4
forms included, and numeric hosts in the legacy spellings that ``inet_aton``
accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``). Networks on the allow-list
(``CONNECTOR_TARGET_ALLOWLIST``) are let through all the same.

The guard is asked at subscribe time (`check_target`) and again for every new
connection (`lookup_checked`, through the transports' resolvers), so an answer
that changes between the two (DNS rebinding) is still checked before connecting.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = {"http": 80, "https": 443}
DEFAULT_PORTS = "80,443,1024-65535"
ALLOW_HINT = "allow it with CONNECTOR_TARGET_ALLOWLIST"

#: Cloud metadata services, named as such in the reason (most are link-local anyway).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)

# IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")


class TargetBlocked(Exception):
    """A target the guard refuses. ``str()`` is the reason, as answered and recorded."""


def _system_lookup(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (what a connection would use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal_address(host: str) -> Address | None:
    """The address a host names by itself, in any spelling a resolver accepts; None for a name."""
    # As IDNA reads a host (and yarl with it): full-width digits are digits, ideographic stops are dots.
    host = unicodedata.normalize("NFKC", host).translate(_DOTS).strip("[]").lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _translated_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 address stands for: the same destination."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: Address) -> str | None:
    """What makes an address unfit for a target ("a loopback address"), or None for a public one."""
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.version == 6 and ip in _UNIQUE_LOCAL:
        return "a unique-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """``"127.0.0.0/8, ::1/128"`` (or a list) as networks; a bare address is a single-address network."""
    items = text.split(",") if isinstance(text, str) else text
    networks = []
    for item in items:
        item = str(item).strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ValueError(f"CONNECTOR_TARGET_ALLOWLIST: {item!r} is not a network ({exc})") from None
    return tuple(networks)


def parse_ports(text: str | int) -> tuple[tuple[int, int], ...] | None:
    """``"80,443,1024-65535"`` as inclusive ranges; ``"any"`` (or empty) as None, meaning every port."""
    text = str(text).strip().lower()
    if text in ("", "any", "*"):
        return None
    ranges = []
    for item in text.split(","):
        low, _, high = item.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"CONNECTOR_TARGET_PORTS: {item.strip()!r} is not a port or a range like 1024-65535") from None
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"CONNECTOR_TARGET_PORTS: {item.strip()!r} is outside 1-65535")
        ranges.append((first, last))
    return tuple(ranges)


@dataclass(frozen=True)
class TargetGuard:
    """The policy, built once from the settings; cheap to ask, safe to share between threads."""

    allow: tuple[Network, ...] = ()
    ports: tuple[tuple[int, int], ...] | None = parse_ports(DEFAULT_PORTS)
    ports_text: str = DEFAULT_PORTS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TargetGuard:
        ports = str(config.get("TARGET_PORTS", DEFAULT_PORTS))
        return cls(parse_networks(config.get("TARGET_ALLOWLIST") or ""), parse_ports(ports), ports)

    # ----- addresses -----

    def allowed(self, ip: Address) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow)

    def address_problem(self, ip: Address) -> str | None:
        """What makes this address unreachable for hooks ("a loopback address"), or None."""
        translated = _translated_ipv4(ip)
        if translated is not None:
            # The same destination as the IPv4 address: judged (and allowed) as that.
            inner = self.address_problem(translated)
            return inner and f"{inner} (IPv4 {translated})"
        if self.allowed(ip):
            return None
        kind = _kind(ip)
        sixtofour = ip.sixtofour if isinstance(ip, ipaddress.IPv6Address) else None
        if kind is None and sixtofour is not None and not self.allowed(sixtofour):
            kind = _kind(sixtofour)
            kind = kind and f"{kind} (6to4 of {sixtofour})"
        return kind

    def check_address(self, address: str | Address, host: str | None = None) -> None:
        """Raise TargetBlocked for an address hooks may not reach; ``host`` is the name it came from."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        problem = self.address_problem(ip)
        if problem:
            where = f"{host} resolves to {ip}, {problem}" if host else f"{ip} is {problem}"
            raise TargetBlocked(f"{where}; {ALLOW_HINT}")

    # ----- URLs -----

    def port_allowed(self, port: int) -> bool:
        return self.ports is None or any(low <= port <= high for low, high in self.ports)

    def check_url(self, url: str) -> tuple[str, int, Address | None]:
        """Scheme, port and a host that is an address (in any spelling): (host, port, address or None).

        Raises TargetBlocked. A host that is a name still needs `lookup_checked` or `check_target`.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise TargetBlocked("the URL is malformed") from None
        scheme, host = parts.scheme.lower(), parts.hostname
        if scheme not in SCHEMES:
            raise TargetBlocked(f"scheme {scheme or '(none)'!r} is not allowed: use http or https")
        if not host:
            raise TargetBlocked("the URL has no host")
        port = SCHEMES[scheme] if port is None else port
        if not self.port_allowed(port):
            raise TargetBlocked(f"port {port} is not allowed (CONNECTOR_TARGET_PORTS is {self.ports_text})")
        address = literal_address(host)
        if address is not None:
            self.check_address(address)
        return host, port, address

    def lookup_checked(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` and check every address; the addresses to connect to, or TargetBlocked.

        One refused address refuses the host: a name that answers with an inside
        address is not trusted with the others either. DNS errors propagate.
        """
        addresses = _lookup(host, port)
        name = None if literal_address(host) is not None else host
        for address in addresses:
            self.check_address(address, name)
        return addresses

    def check_target(self, url: str, resolve_timeout: float = 2.0) -> None:
        """Subscribe-time check: the URL itself, then, if its host is a name, what it resolves to now.

        A name that does not resolve (or not within ``resolve_timeout`` seconds)
        is accepted on the URL checks alone: DNS may be down, or the name may be
        set up later. Every delivery checks the addresses again before connecting.
        """
        host, port, address = self.check_url(url)
        if address is None:
            self.check_host(host, port, resolve_timeout)

    def check_host(self, host: str, port: int, resolve_timeout: float = 2.0) -> None:
        """The address part of `check_target`, for a destination that is not a URL (an SMTP server)."""
        address = literal_address(host)
        if address is not None:
            self.check_address(address)
            return
        if resolve_timeout <= 0:
            return
        future = _RESOLVER_POOL.submit(_lookup, host, port)
        try:
            addresses = future.result(timeout=resolve_timeout)
        except (OSError, ValueError, FutureTimeout):  # gaierror, a name IDNA cannot encode, no answer in time
            return
        for found in addresses:
            self.check_address(found, host)


def _lookup(host: str, port: int) -> list[str]:
    # Looked up at call time, so tests can swap the system resolver for a scripted one.
    return _system_lookup(host, port)


# A few threads for subscribe-time lookups, so a stuck resolver costs a request its timeout only
# (threads start on first use).
_RESOLVER_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="guard-dns")
