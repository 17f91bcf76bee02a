"""One e-mail delivery attempt through the operator's own mail server, with the standard library's SMTP client.

An `email_sent` hook may have an SMTP server instead of a URL: the connector then
sends the e-mail itself. Such a hook's target_url is `smtp://host:port` (never any
credentials), which is how the dispatcher tells the two apart. smtplib blocks, so
the dispatcher runs attempts on a few threads of their own (`send_in_thread`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from .. import credentials
from ..models import SmtpDestination
from .guard import TargetBlocked, TargetGuard
from .jobs import Job
from .transport import AttemptResult, _Recorder

SCHEME = "smtp://"
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# The e-mail fields of the catalog's `email` object (DESIGN.md §1).
ADDRESS_FIELDS = ("to", "cc", "bcc")
SMTP_THREADS = 4

_pool: ThreadPoolExecutor | None = None


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr, so never in a log line
    sender: str | None = None

    @classmethod
    def of(cls, row: SmtpDestination) -> SmtpServer:
        """The server of a stored destination, its password unsealed; ValueError if it cannot be."""
        password = credentials.current().unseal(row.password) if row.password else None
        return cls(row.host, row.port, row.security, row.username, password, row.sender)


def target_url(host: str, port: int) -> str:
    """What an SMTP hook shows as its target: the server, no credentials."""
    return f"{SCHEME}[{host}]:{port}" if ":" in host else f"{SCHEME}{host}:{port}"


def is_smtp(url: str) -> bool:
    return url.startswith(SCHEME)


def addresses(value: Any) -> list[str]:
    """Addresses from "a@x, B <b@y>" or a list of them; names dropped for the envelope."""
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [addr for _, addr in getaddresses([str(v) for v in items]) if addr]


def _header_list(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def compose(payload: dict[str, Any], sender: str | None) -> tuple[EmailMessage, str, list[str]]:
    """The message, the envelope sender and every recipient (Bcc only in the envelope).

    With a sender override the platform's From becomes the Reply-To, unless one is set.
    Raises ValueError for an e-mail that cannot be sent (no sender, no recipient, a bad header).
    """
    author = payload.get("from")
    from_header = sender or author
    senders = addresses(from_header)
    if not senders:
        raise ValueError("no sender: the e-mail has no from address and the hook no sender")
    recipients = [addr for name in ADDRESS_FIELDS for addr in addresses(payload.get(name))]
    if not recipients:
        raise ValueError("no recipients: to, cc and bcc are empty")
    message = EmailMessage()
    message["From"] = str(from_header)
    for name, header in (("to", "To"), ("cc", "Cc")):
        if payload.get(name):
            message[header] = _header_list(payload[name])
    reply_to = payload.get("reply_to") or (author if sender and author and author != sender else None)
    if reply_to:
        message["Reply-To"] = _header_list(reply_to)
    message["Subject"] = str(payload.get("subject") or "")
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=senders[0].rpartition("@")[2] or None)
    body, html = payload.get("body"), payload.get("body_html")
    if body or not html:
        message.set_content(str(body or ""))
        if html:
            message.add_alternative(str(html), subtype="html")
    else:
        message.set_content(str(html), subtype="html")
    return message, senders[0], recipients


def send(
    server: SmtpServer, payload: dict[str, Any], timeout: float, max_response_bytes: int = 4096, guard: TargetGuard | None = None
) -> AttemptResult:
    """Send one e-mail; the result as the delivery log records it (never raises).

    A 250 from the server is the success code; refusals keep the server's code (451, 550 …)
    and, like every other failure, are retried on the hook's schedule.
    """
    rec = _Recorder(timeout, max_response_bytes)
    try:
        message, envelope_from, recipients = compose(payload, server.sender)
        context = ssl.create_default_context()
        if server.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(timeout=timeout)
        # Connect to an address the guard has just checked (no DNS rebinding in between);
        # TLS still checks the certificate against the server's name.
        address = guard.lookup_checked(server.host, server.port)[0] if guard is not None else server.host
        client._host = server.host
        client.connect(address, server.port)
        with client:
            if server.security == "starttls":
                client.starttls(context=context)
            if server.username:
                _login(client, server.username, server.password or "")
            refused = client.send_message(message, envelope_from, recipients)
        rec.status_code = 250
        note = f"accepted for {len(recipients) - len(refused)} of {len(recipients)} recipients"
        if refused:
            note += "; refused: " + ", ".join(f"{addr} ({code})" for addr, (code, _) in refused.items())
        rec.excerpt += note.encode()
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        _refused(rec, code, text, "every recipient refused")
    except smtplib.SMTPResponseException as exc:
        _refused(rec, exc.smtp_code, exc.smtp_error, type(exc).__name__)
    except (smtplib.SMTPException, OSError, TargetBlocked) as exc:  # before ValueError: a failed certificate check is both
        rec.failed(exc)
    except ValueError as exc:  # nothing a server could change: the e-mail itself is unusable
        rec.error = f"cannot send: {exc}"[:200]
    return rec.result()


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH; smtplib's login takes ASCII only, so other credentials go as AUTH PLAIN in UTF-8 (RFC 4616)."""
    if (username + password).isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode("ascii")
    code, text = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def _refused(rec: _Recorder, code: int, text: bytes | str, what: str) -> None:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    rec.status_code = code
    rec.error = f"SMTP {code}: {what}: {words}"[:200]
    rec.excerpt += words.encode()


def send_to(
    row: SmtpDestination | None,
    payload: dict[str, Any],
    timeout: float,
    max_response_bytes: int,
    guard: TargetGuard | None = None,
) -> AttemptResult:
    """Send to a hook's stored server; a server gone or a password that cannot be unsealed is a failed attempt."""
    try:
        if row is None:
            raise ValueError("the hook has no SMTP server any more")
        server = SmtpServer.of(row)
    except ValueError as exc:
        rec = _Recorder(timeout, max_response_bytes)
        rec.error = f"cannot send: {exc}"[:200]
        return rec.result()
    return send(server, payload, timeout, max_response_bytes, guard)


def send_job(
    sessions: sessionmaker[Session], job: Job, timeout: float, max_response_bytes: int, guard: TargetGuard | None = None
) -> AttemptResult:
    """One attempt of a delivery to an SMTP hook: its server read now, the job's payload as the e-mail."""
    with sessions() as session:  # closed before sending: no transaction stays open while the server talks
        row = session.get(SmtpDestination, job.hook_id)
    return send_to(row, json.loads(job.body), timeout, max_response_bytes, guard)


async def send_in_thread(
    sessions: sessionmaker[Session], job: Job, timeout: float, max_response_bytes: int, guard: TargetGuard | None = None
) -> AttemptResult:
    """send_job off the event loop, on the SMTP threads (at most SMTP_THREADS e-mails at once)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=SMTP_THREADS, thread_name_prefix="dispatcher-smtp")
    return await asyncio.get_running_loop().run_in_executor(_pool, send_job, sessions, job, timeout, max_response_bytes, guard)
