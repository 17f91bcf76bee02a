"""The SSRF guard: the address policy, and both transports connecting only where it allows."""

import asyncio
import ipaddress
import socket
import ssl

import pytest
import requests

from connector.delivery import guard as guard_module
from connector.delivery.guard import TargetBlocked, TargetGuard, literal_address, parse_networks, parse_ports
from connector.delivery.transport import BLOCKED, AsyncTransport, Outgoing, send_sync

HINT = "allow it with CONNECTOR_TARGET_ALLOWLIST"
STRICT = TargetGuard()
LOCAL = TargetGuard.from_config({"TARGET_ALLOWLIST": "127.0.0.0/8,::1/128"})


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://2130706433/", "127.0.0.1 is a loopback address"),  # decimal
        ("http://0177.0.0.1/", "127.0.0.1 is a loopback address"),  # octal
        ("http://0x7f.0.0.1/", "127.0.0.1 is a loopback address"),  # hexadecimal
        ("http://127.1/", "127.0.0.1 is a loopback address"),  # short form
        ("http://127.0.0.1./", "127.0.0.1 is a loopback address"),  # trailing dot
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "127.0.0.1 is a loopback address"),  # full-width digits
        ("http://127\u30020\u30020\u30021/", "127.0.0.1 is a loopback address"),  # ideographic full stops
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address (IPv4 127.0.0.1)"),  # IPv4-mapped
        ("http://[::ffff:10.0.0.1]/", "a private address (IPv4 10.0.0.1)"),
        ("http://[64:ff9b::a9fe:a9fe]/", "a cloud metadata address (IPv4 169.254.169.254)"),  # NAT64
        ("http://[2002:7f00:1::]/", "a loopback address (6to4 of 127.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"),
        ("http://169.254.1.1/", "169.254.1.1 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://172.16.5.4/", "172.16.5.4 is a private address"),
        ("http://192.168.1.1/", "192.168.1.1 is a private address"),
        ("http://100.64.0.1/", "100.64.0.1 is a non-public address"),  # carrier-grade NAT
        ("http://[fd00::1]/", "fd00::1 is a unique-local address"),
        ("http://[fc00::1]/", "fc00::1 is a unique-local address"),
        ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
        ("http://[ff02::1]/", "ff02::1 is a multicast address"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("http://0/", "0.0.0.0 is an unspecified address"),
        ("http://[::]/", ":: is an unspecified address"),
        ("http://240.0.0.1/", "240.0.0.1 is a private address"),
        ("http://[::7f00:1]/", "::7f00:1 is a reserved address"),
        ("ftp://example.com/", "scheme 'ftp' is not allowed"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("gopher://example.com:70/", "scheme 'gopher' is not allowed"),
        ("http://example.com:22/", "port 22 is not allowed"),
        ("https://example.com:25/", "port 25 is not allowed"),
        ("http://example.com:99999/", "malformed"),
    ],
)
def test_refused_urls_name_the_reason(url, reason):
    with pytest.raises(TargetBlocked) as refused:
        STRICT.check_url(url)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/",
        "https://example.com/hook",
        "http://example.com:8080/x",
        "http://[2606:4700::1111]/",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_public_targets_pass(url):
    STRICT.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/",
        "http://2130706433:9000/",
        "http://0177.0.0.1:9000/",
        "http://[::ffff:127.0.0.1]:9000/",
        "http://[::1]:9000/",
    ],
)
def test_the_allow_list_lets_its_networks_through(url):
    LOCAL.check_url(url)
    with pytest.raises(TargetBlocked, match="loopback"):
        STRICT.check_url(url)


def test_the_allow_list_is_only_what_it_says():
    with pytest.raises(TargetBlocked, match="10.0.0.1 is a private address"):
        LOCAL.check_url("http://10.0.0.1/")
    narrow = TargetGuard.from_config({"TARGET_ALLOWLIST": "10.1.0.0/16, 169.254.169.254"})
    narrow.check_url("http://10.1.2.3/")
    narrow.check_url("http://169.254.169.254/")
    with pytest.raises(TargetBlocked):
        narrow.check_url("http://10.2.0.1/")


def test_ports_setting():
    assert parse_ports("any") is None and parse_ports("") is None
    assert parse_ports("443") == ((443, 443),)
    assert parse_ports("80, 8000-8999") == ((80, 80), (8000, 8999))
    anything = TargetGuard.from_config({"TARGET_PORTS": "any"})
    anything.check_url("http://example.com:22/")
    only = TargetGuard.from_config({"TARGET_PORTS": "443"})
    only.check_url("https://example.com/")
    with pytest.raises(TargetBlocked, match=r"port 80 is not allowed \(CONNECTOR_TARGET_PORTS is 443\)"):
        only.check_url("http://example.com/")


@pytest.mark.parametrize(
    "setting, value, words",
    [
        ("TARGET_ALLOWLIST", "127.0.0.0/8,localhost", "'localhost' is not a network"),
        ("TARGET_PORTS", "80,http", "'http' is not a port"),
        ("TARGET_PORTS", "0-80", "outside 1-65535"),
        ("TARGET_PORTS", "90-80", "outside 1-65535"),
    ],
)
def test_bad_settings_are_named(setting, value, words):
    with pytest.raises(ValueError, match=words):
        TargetGuard.from_config({setting: value})


def test_literal_addresses_in_every_spelling():
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("0x7f000001") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("[::ffff:127.0.0.1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert literal_address("example.com") is None
    assert literal_address("cafe") is None and literal_address("1.2.3.4.5") is None
    assert parse_networks("") == ()


@pytest.fixture
def dns(monkeypatch):
    """A scripted resolver in place of the system's: names → addresses, changeable mid-test."""
    answers: dict[str, list[str]] = {}

    def lookup(host, port):
        if literal_address(host) is not None:
            return [str(literal_address(host))]  # as getaddrinfo answers an address
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answers[host])

    monkeypatch.setattr(guard_module, "_system_lookup", lookup)
    return answers


def test_every_resolved_address_is_checked(dns):
    dns["mixed.example"] = ["93.184.216.34", "10.0.0.7"]
    with pytest.raises(TargetBlocked, match="mixed.example resolves to 10.0.0.7, a private address"):
        STRICT.lookup_checked("mixed.example", 443)
    dns["fine.example"] = ["93.184.216.34", "2606:2800:220:1::"]
    assert STRICT.lookup_checked("fine.example", 443) == ["93.184.216.34", "2606:2800:220:1::"]


def test_subscribe_check_resolves_names(dns):
    dns["inside.example"] = ["192.168.0.10"]
    with pytest.raises(TargetBlocked, match="inside.example resolves to 192.168.0.10, a private address"):
        STRICT.check_target("https://inside.example/hook")
    dns["outside.example"] = ["93.184.216.34"]
    STRICT.check_target("https://outside.example/hook")
    # Not resolvable now (DNS down, or a name set up later): accepted; deliveries check again.
    STRICT.check_target("https://not-yet.example/hook")
    # With a resolve timeout of 0 only the URL itself is checked.
    STRICT.check_target("https://inside.example/hook", resolve_timeout=0)


def test_a_stuck_resolver_costs_only_the_timeout(monkeypatch):
    import threading

    release = threading.Event()
    monkeypatch.setattr(guard_module, "_system_lookup", lambda host, port: release.wait(5) and ["10.0.0.1"])
    try:
        STRICT.check_target("https://slow.example/hook", resolve_timeout=0.05)  # accepted, not raised
    finally:
        release.set()


def test_localhost_is_caught_by_its_addresses():
    with pytest.raises(TargetBlocked, match="localhost resolves to 127.0.0.1, a loopback address"):
        STRICT.check_target("http://localhost:8080/hook")
    LOCAL.check_target("http://localhost:8080/hook")


# ----- the transports -----

BODY = b'{"id": 1}'


def send_async(out, guard):
    async def run():
        transport = AsyncTransport(timeout=5, guard=guard)
        try:
            return await transport.send(out)
        finally:
            await transport.close()

    return asyncio.run(run())


def send_with_requests(out, guard):
    return send_sync(out, timeout=5, guard=guard)


@pytest.fixture(params=["async", "sync"])
def send(request):
    return send_async if request.param == "async" else send_with_requests


def test_a_name_resolving_to_loopback_never_reaches_the_receiver(send, webhook_receiver):
    result = send(Outgoing(f"http://localhost:{webhook_receiver.port}/hook", BODY, {}), STRICT)
    assert result.status_code is None
    assert result.error == f"{BLOCKED}: localhost resolves to 127.0.0.1, a loopback address; {HINT}"
    assert webhook_receiver.received() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "\uff11\uff12\uff17.0.0.1"])
def test_an_address_host_never_reaches_the_receiver(send, webhook_receiver, host):
    result = send(Outgoing(f"http://{host}:{webhook_receiver.port}/hook", BODY, {}), STRICT)
    assert result.error.startswith(f"{BLOCKED}: ") and "loopback" in result.error
    assert webhook_receiver.received() == []


def test_rebinding_is_checked_at_connect_time(send, webhook_receiver, dns):
    """The name answered a public address at subscribe; now it answers 127.0.0.1: refused before connecting."""
    dns["rebind.example"] = ["93.184.216.34"]
    STRICT.check_target(f"http://rebind.example:{webhook_receiver.port}/hook")
    dns["rebind.example"] = ["127.0.0.1"]
    result = send(Outgoing(f"http://rebind.example:{webhook_receiver.port}/hook", BODY, {}), STRICT)
    assert result.error == f"{BLOCKED}: rebind.example resolves to 127.0.0.1, a loopback address; {HINT}"
    assert webhook_receiver.received() == []


def test_the_connection_goes_to_the_checked_address_with_the_urls_host(send, webhook_receiver, dns):
    """Pinning: the client connects where the guard resolved, and still says the URL's host."""
    dns["receiver.example"] = ["127.0.0.1"]
    result = send(Outgoing(f"http://receiver.example:{webhook_receiver.port}/hook", BODY, {}), LOCAL)
    assert (result.status_code, result.error) == (200, None)
    (request,) = webhook_receiver.received()
    assert request.headers["host"] == f"receiver.example:{webhook_receiver.port}"
    assert request.body == BODY


def test_an_unresolvable_name_is_a_dns_failure(send, dns):
    result = send(Outgoing("http://nowhere.example:8080/hook", BODY, {}), STRICT)
    assert result.error == "DNS lookup failed"


def test_send_sync_guards_a_given_session(webhook_receiver):
    with requests.Session() as session:
        result = send_sync(Outgoing(f"http://localhost:{webhook_receiver.port}/hook", BODY, {}), session=session, guard=STRICT)
    assert "loopback" in result.error and webhook_receiver.received() == []


@pytest.fixture
def tls_receiver():
    """An HTTPS receiver on 127.0.0.1 whose certificate names receiver.example only; its CA file."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("receiver.example")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    with ca.cert_pem.tempfile() as ca_file:
        yield server.server_address[1], ca_file
    server.shutdown()
    server.server_close()


def test_https_through_the_pinned_address_still_verifies_the_urls_host(tls_receiver, dns):
    port, ca_file = tls_receiver
    dns["receiver.example"] = ["127.0.0.1"]
    with requests.Session() as session:
        session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over session.verify
        session.verify = ca_file
        ok = send_sync(Outgoing(f"https://receiver.example:{port}/hook", BODY, {}), session=session, guard=LOCAL)
        by_address = send_sync(Outgoing(f"https://127.0.0.1:{port}/hook", BODY, {}), session=session, guard=LOCAL)
    assert (ok.status_code, ok.error) == (200, None)  # SNI and the certificate check use receiver.example
    assert by_address.error == "TLS handshake failed"  # the certificate does not name the address


def test_aiohttp_sees_the_same_host_the_guard_checked():
    from connector.delivery.pinning import check_aiohttp_host

    for url in ("http://[::ffff:127.0.0.1]:8080/", "http://127.0.0.1:8080/", "http://example.com:22/"):
        with pytest.raises(TargetBlocked):
            check_aiohttp_host(STRICT, url)
    check_aiohttp_host(STRICT, "http://example.com:8080/")
    check_aiohttp_host(LOCAL, "http://127.0.0.1:8080/")
