"""Standard Webhooks signing: secrets, signatures and the headers of each attempt."""

import base64
import functools
import hashlib
import hmac
from collections.abc import Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"
USER_AGENT = "connector-webhooks/1"


def new_secret() -> str:
    """Return a fresh hook secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(24)).decode()


@functools.lru_cache(maxsize=4096)
def _key(secret: str) -> bytes:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64 HMAC-SHA256>`` signature of ``id.timestamp.body``."""
    # Sign the exact bytes that go on the wire, never a re-serialisation.
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(msg_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The headers of one attempt: one signature per secret (two during rotation)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # Never a compressed answer: only its first bytes are kept, and they should be readable.
        "accept-encoding": "identity",
    }
