import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from connector.delivery.signing import new_secret, sign, webhook_headers

BODY = json.dumps({"event": "order.created", "id": 42}).encode()


def test_new_secret_is_whsec_prefixed_base64_of_24_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert new_secret() != secret


def test_sign_matches_the_standard_webhooks_reference_vector():
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_headers_verify_with_the_standardwebhooks_library():
    secret = new_secret()
    headers = webhook_headers("msg_1", int(time.time()), BODY, [secret])
    assert Webhook(secret).verify(BODY, headers) == {"event": "order.created", "id": 42}
    assert headers["webhook-id"] == "msg_1"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "connector-webhooks/1"


def test_two_secrets_during_rotation_each_verify():
    old, new = new_secret(), new_secret()
    headers = webhook_headers("msg_2", int(time.time()), BODY, [old, new])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_changed_body_byte_fails_verification():
    secret = new_secret()
    headers = webhook_headers("msg_3", int(time.time()), BODY, [secret])
    tampered = BODY.replace(b"42", b"43")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


def test_japanese_utf8_body_bytes_are_signed_exactly():
    secret = new_secret()
    body = json.dumps({"title": "注文が作成されました"}, ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = webhook_headers("msg_4", timestamp, body, [secret])

    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"msg_4.{timestamp}.".encode() + body, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert Webhook(secret).verify(body, headers) == {"title": "注文が作成されました"}


def test_signing_needs_a_secret():
    with pytest.raises(ValueError, match="at least one secret"):
        webhook_headers("msg_5", int(time.time()), BODY, [])
    with pytest.raises(ValueError, match="empty"):
        sign("whsec_", "msg_5", 0, BODY)
