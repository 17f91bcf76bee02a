"""E-mail hooks through the operator's own mail server: a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import socket
import threading
from collections import deque
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from connector import credentials
from connector.delivery import smtp, store
from connector.delivery.retry import RetryPolicy
from connector.models import Attempt, Delivery, Hook, SmtpDestination
from connector.services import utcnow
from tests.receiver import wait_until

PASSWORD = "s3cret-お休み"
MAIL = {
    "to": "佐藤 花子 <sato.hanako@example.jp>, guest@example.jp",
    "from": "yoyaku@yoga-shibuya.example.jp",
    "cc": "teacher@example.jp",
    "bcc": "owner@yoga-shibuya.example.jp",
    "reply_to": None,
    "subject": "【ヨガ教室 渋谷スタジオ】ご予約ありがとうございます",
    "body": "佐藤 花子 様\n\n12月5日(土) 10:00〜11:00 朝ヨガ 60分 のご予約を承りました。",
    "body_html": "<p>佐藤 花子 様</p><p><b>朝ヨガ 60分</b> のご予約を承りました。</p>",
}
POLICY = RetryPolicy(jitter=0.0)


class Inbox:
    """An aiosmtpd handler: keeps what it accepts; scripted refusals come first."""

    def __init__(self, require_auth: bool = False) -> None:
        self.require_auth = require_auth
        self.envelopes: list = []
        self.refusals: deque[str] = deque()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.require_auth and not session.authenticated:
                return "530 5.7.0 Authentication required"
            if self.refusals:
                return self.refusals.popleft()
            self.envelopes.append(envelope)
        return "250 OK queued"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(handler, **smtp_parameters):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
    controller.start()
    handler.port = controller.port
    return controller


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = serve(handler)
    yield handler
    controller.stop()


@pytest.fixture
def guarded_inbox():
    """A server that takes mail only after AUTH as mailer with PASSWORD (plain text allowed: a test on 127.0.0.1)."""
    handler = Inbox(require_auth=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == PASSWORD.encode(), handled=False)

    controller = serve(handler, authenticator=authenticator, auth_require_tls=False)
    yield handler
    controller.stop()


def subscribe(client, tenant, inbox, **smtp_fields):
    body = {
        "trigger": "email_sent",
        "smtp": {"host": "127.0.0.1", "port": inbox.port, "security": "none", "sender": "Yoga Shibuya <noreply@yoga.example.jp>"}
        | smtp_fields,
    }
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json


def publish_mail(client, tenant, mail=MAIL):
    response = client.post(
        "/api/v1/events", json={"object": "email", "event": "sent", "role": 7, "data": mail}, headers=tenant.headers
    )
    assert response.status_code == 202, response.json
    return response.json


def attempt(app, now):
    """One dispatcher step by hand: claim what is due at `now`, send it, record it."""
    database = app.extensions["connector.db"]
    with database.session() as session:
        jobs = store.load_jobs(session, store.claim_due(session, "w", now, timedelta(seconds=60), 10), now)
        results = [(job, smtp.send_job(database.sessions, job, 5.0, 4096)) for job in jobs]
        return store.record(session, "w", results, now, POLICY)


def test_the_api_never_shows_the_password(client, tenant, inbox):
    hook = subscribe(client, tenant, inbox, username="mailer", password=PASSWORD)
    assert hook["target_url"] == f"smtp://127.0.0.1:{inbox.port}"
    assert hook["smtp"] == {
        "host": "127.0.0.1",
        "port": inbox.port,
        "security": "none",
        "username": "mailer",
        "password_set": True,
        "sender": "Yoga Shibuya <noreply@yoga.example.jp>",
    }
    for response in (
        client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers),
        client.get("/api/v1/hooks", headers=tenant.headers),
        client.patch(f"/api/v1/hooks/{hook['id']}", json={"smtp": {"host": "mail.example.jp"}}, headers=tenant.headers),
    ):
        assert response.status_code == 200 and PASSWORD not in response.get_data(as_text=True)
    patched = response.json["smtp"]
    # A PATCH without a password keeps the stored one; the port follows the security's default.
    assert patched["host"] == "mail.example.jp" and patched["password_set"] is True and patched["port"] == 587
    assert PASSWORD not in repr(smtp.SmtpServer("h", 25, password=PASSWORD))
    # Back to a URL: the SMTP server goes.
    url = client.patch(f"/api/v1/hooks/{hook['id']}", json={"target_url": "https://example.com/mail"}, headers=tenant.headers)
    assert url.json["smtp"] is None and url.json["target_url"] == "https://example.com/mail"


@pytest.mark.parametrize(
    "body, where",
    [
        ({"trigger": "new_user", "smtp": {"host": "127.0.0.1"}}, "smtp"),
        ({"trigger": "email_sent", "smtp": {"host": "127.0.0.1"}, "target_url": "https://example.com/h"}, "smtp"),
        ({"trigger": "email_sent", "smtp": {"host": "mail example"}}, "smtp.host"),
        ({"trigger": "email_sent", "smtp": {"host": "127.0.0.1", "security": "ssl"}}, "json"),
        ({"trigger": "email_sent", "smtp": {"host": "127.0.0.1", "port": 70000}}, "json"),
        ({"trigger": "email_sent", "smtp": {"host": "127.0.0.1", "sender": "nobody"}}, "smtp.sender"),
        ({"trigger": "email_sent", "smtp": {}}, "json"),
        ({"trigger": "email_sent"}, "json"),
    ],
)
def test_bad_smtp_destinations_are_422(client, tenant, body, where):
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.json
    assert where in response.json["errors"], response.json
    assert client.get("/api/v1/hooks", headers=tenant.headers).json == []


def test_the_email_arrives_intact(app, client, tenant, inbox):
    subscribe(client, tenant, inbox)
    publish_mail(client, tenant)
    (outcome,) = attempt(app, utcnow())
    assert outcome.verdict.value == "succeeded"
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "noreply@yoga.example.jp"
    assert sorted(envelope.rcpt_tos) == sorted(
        ["sato.hanako@example.jp", "guest@example.jp", "teacher@example.jp", "owner@yoga-shibuya.example.jp"]
    )
    raw = envelope.original_content
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower()  # the Japanese subject travels RFC 2047 encoded
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == MAIL["subject"]
    assert message["To"] == MAIL["to"] and message["Cc"] == "teacher@example.jp" and message["Bcc"] is None
    assert message["From"] == "Yoga Shibuya <noreply@yoga.example.jp>"
    assert message["Reply-To"] == MAIL["from"]  # the sender override keeps replies going to the platform's From
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == MAIL["body"]
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n").rstrip("\n") == MAIL["body_html"]
    with app.extensions["connector.db"].session() as session:
        (row,) = session.scalars(select(Attempt)).all()
        assert row.status_code == 250 and row.outcome == "succeeded" and b"accepted for 4 of 4" in row.response_excerpt


def failing_since(app, hook_id):
    with app.extensions["connector.db"].session() as session:
        return session.get(Hook, hook_id).failing_since


@pytest.mark.parametrize("refusal, code", [("451 4.3.0 try later", 451), ("550 5.7.1 relaying denied", 550)])
def test_a_refusing_server_is_retried(app, client, tenant, inbox, refusal, code):
    hook = subscribe(client, tenant, inbox)
    inbox.refusals.append(refusal)
    publish_mail(client, tenant)
    now = utcnow()
    (first,) = attempt(app, now)
    assert first.verdict.value == "retry" and first.next_attempt_at == now + timedelta(seconds=5)
    assert inbox.envelopes == []
    assert failing_since(app, hook["id"]) == now  # what disables a hook that keeps failing
    assert attempt(app, now + timedelta(seconds=4)) == []  # not due yet
    (second,) = attempt(app, first.next_attempt_at)
    assert second.verdict.value == "succeeded" and len(inbox.envelopes) == 1
    assert failing_since(app, hook["id"]) is None
    with app.extensions["connector.db"].session() as session:
        attempts = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        assert [(a.status_code, a.outcome) for a in attempts] == [(code, "retry"), (250, "succeeded")]
        assert attempts[0].error.startswith(f"SMTP {code}")
        assert session.scalar(select(Delivery.status)) == "succeeded"
        assert session.get(SmtpDestination, hook["id"]).password is None


def test_an_unreachable_server_is_a_failed_attempt(app, client, tenant, inbox):
    subscribe(client, tenant, inbox, port=free_port())  # nothing listens there
    publish_mail(client, tenant)
    (outcome,) = attempt(app, utcnow())
    assert outcome.verdict.value == "retry"
    with app.extensions["connector.db"].session() as session:
        row = session.scalars(select(Attempt)).one()
        assert row.status_code is None and row.error == "connection refused"


def test_an_email_without_recipients_is_recorded_not_raised(app, client, tenant, inbox):
    subscribe(client, tenant, inbox)
    publish_mail(client, tenant, {**MAIL, "to": None, "cc": "", "bcc": None})
    attempt(app, utcnow())
    with app.extensions["connector.db"].session() as session:
        assert session.scalars(select(Attempt)).one().error == "cannot send: no recipients: to, cc and bcc are empty"


def test_the_hooks_test_button_sends_the_sample_email(client, tenant, inbox):
    hook = subscribe(client, tenant, inbox)
    answer = client.post(f"/api/v1/hooks/{hook['id']}/test", headers=tenant.headers)
    assert answer.status_code == 200 and answer.json["attempt"]["status_code"] == 250
    assert len(inbox.envelopes) == 1


def test_the_dispatcher_sends_emails(live_app, tenant_live, inbox):
    client = live_app.test_client()
    subscribe(client, tenant_live, inbox)
    publish_mail(client, tenant_live)
    wait_until(lambda: len(inbox.envelopes) == 1, what="the e-mail arrives")

    def delivered():
        with live_app.extensions["connector.db"].session() as session:
            return session.scalar(select(Delivery.status)) == "succeeded"

    wait_until(delivered, what="the delivery is recorded")


@pytest.fixture
def tenant_live(live_app):
    from tests.conftest import make_tenant

    return make_tenant(live_app, "mail-studio")


def test_the_password_is_stored_sealed_and_used_to_log_in(app, client, tenant, guarded_inbox):
    hook = subscribe(client, tenant, guarded_inbox, username="mailer", password=PASSWORD)
    with app.extensions["connector.db"].session() as session:
        stored = session.get(SmtpDestination, hook["id"]).password
    assert stored.startswith("fernet:") and PASSWORD not in stored
    publish_mail(client, tenant)
    (outcome,) = attempt(app, utcnow())
    assert outcome.verdict.value == "succeeded" and len(guarded_inbox.envelopes) == 1


@pytest.mark.parametrize("wrong", ["wrong", "間違い"])
def test_a_wrong_password_or_a_lost_key_is_a_failed_attempt(app, client, tenant, guarded_inbox, wrong):
    subscribe(client, tenant, guarded_inbox, username="mailer", password=wrong)
    publish_mail(client, tenant)
    now = utcnow()
    (outcome,) = attempt(app, now)
    assert outcome.verdict.value == "retry"
    with app.extensions["connector.db"].session() as session:
        row = session.scalars(select(Attempt)).one()
        assert row.status_code == 535, row.error  # authentication failed
    credentials.init("another key", app.instance_path)
    try:
        attempt(app, outcome.next_attempt_at)
    finally:
        credentials.init(app.config["CREDENTIALS_KEY"], app.instance_path)
    with app.extensions["connector.db"].session() as session:
        last = session.scalars(select(Attempt).order_by(Attempt.id.desc())).first()
        assert last.status_code is None and "another CONNECTOR_CREDENTIALS_KEY" in last.error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    import ipaddress
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_implicit_tls_verify_the_server(app, client, tenant, certificate, monkeypatch, security):
    import ssl

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(*certificate)
    handler = Inbox()
    if security == "starttls":
        controller = serve(handler, tls_context=server_context, require_starttls=True)
    else:
        controller = serve(handler, ssl_context=server_context)
    try:
        subscribe(client, tenant, handler, security=security)
        publish_mail(client, tenant)
        now = utcnow()
        # An unknown certificate authority is refused: a failed attempt, nothing sent.
        (refused,) = attempt(app, now)
        assert refused.verdict.value == "retry" and handler.envelopes == []
        with app.extensions["connector.db"].session() as session:
            assert session.scalars(select(Attempt)).one().error == "TLS handshake failed"
        # Trusting the test certificate as a real CA would be: the e-mail goes out encrypted.
        trusted = ssl.create_default_context
        monkeypatch.setattr(smtp.ssl, "create_default_context", lambda: trusted(cafile=certificate[0]))
        (sent,) = attempt(app, refused.next_attempt_at)
        assert sent.verdict.value == "succeeded" and len(handler.envelopes) == 1
    finally:
        controller.stop()


def test_the_ssrf_guard_covers_smtp_servers(app, client, tenant, inbox):
    """An SMTP server inside is refused at subscribe and, should DNS change, again at send time."""
    from connector.delivery.guard import TargetGuard

    hook = subscribe(client, tenant, inbox)  # the tests allow 127.0.0.0/8
    app.config["TARGET_ALLOWLIST"] = ""
    body = {"trigger": "email_sent", "smtp": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}}
    refused = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert refused.status_code == 422 and "loopback" in refused.json["errors"]["smtp.host"], refused.json

    publish_mail(client, tenant)
    database = app.extensions["connector.db"]
    with database.session() as session:
        (job,) = store.load_jobs(session, store.claim_due(session, "w", utcnow(), timedelta(seconds=60), 10), utcnow())
    result = smtp.send_job(database.sessions, job, 5.0, 4096, TargetGuard.from_config({"TARGET_ALLOWLIST": ""}))
    assert result.status_code is None and result.error.startswith("blocked by the SSRF guard"), result.error
    assert inbox.envelopes == [], "nothing reached the server"
    assert job.hook_id == hook["id"]
