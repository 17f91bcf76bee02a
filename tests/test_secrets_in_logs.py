"""Keys and hook secrets never reach the logs, whatever happens at DEBUG level."""

import logging

from sqlalchemy.exc import IntegrityError

from connector.models import Hook
from connector.services import utcnow
from tests.conftest import make_tenant


def test_no_key_or_secret_in_any_log_line(live_app, webhook_receiver, caplog):
    caplog.set_level(logging.DEBUG)
    client = live_app.test_client()
    tenant = make_tenant(live_app, "studio")
    hook = client.post(
        "/api/v1/hooks", json={"target_url": webhook_receiver.url(), "trigger": "purchase"}, headers=tenant.headers
    ).json
    client.post(
        "/api/v1/events", json={"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1}}, headers=tenant.headers
    )
    webhook_receiver.wait_count(1)
    client.post(f"/api/v1/hooks/{hook['id']}/test", json={}, headers=tenant.headers)
    rotated = client.post(f"/api/v1/hooks/{hook['id']}/rotate-secret", json={}, headers=tenant.headers).json
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {tenant.key}x"})  # a wrong key
    # A database error with the secret among its parameters: the logged text must not carry it.
    with live_app.extensions["connector.db"].session() as session:
        now = utcnow()
        session.add(
            Hook(
                id=hook["id"],  # taken: the insert fails with the secret among its parameters
                account_id=tenant.id,
                trigger="purchase",
                target_url="x",
                filters={},
                secret=hook["secret"],
                status="active",
                created_at=now,
                updated_at=now,
            )
        )
        try:
            session.commit()
        except IntegrityError as error:
            logging.getLogger("test").error("commit failed: %s", error)

    text = caplog.text
    assert caplog.records, "something was logged at DEBUG level"
    for secret in (tenant.key, hook["secret"], rotated["secret"]):
        assert secret not in text
