"""Authentication by Bearer, X-API-Key or HTTP Basic; everything else is a 401."""

import base64

import pytest

from connector.services import accounts, utcnow


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_three_ways_to_send_the_key(client, tenant):
    for headers in (
        {"Authorization": f"Bearer {tenant.key}"},
        {"X-API-Key": tenant.key},
        basic(tenant.name, tenant.key),
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 200, headers
        assert response.json["name"] == "yoga-shibuya"


@pytest.mark.parametrize(
    "headers, words",
    [
        ({}, "missing API key"),
        ({"Authorization": "Bearer ck_nope"}, "invalid API key"),
        ({"X-API-Key": "ck_aaaaaaaaaaaa_" + "x" * 40}, "invalid API key"),
        ({"Authorization": "Token abc"}, "missing API key"),
    ],
)
def test_missing_or_wrong_key(client, tenant, headers, words):
    response = client.get("/api/v1/hooks", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == 401 and words in response.json["message"]
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_key_with_one_character_changed_fails(client, tenant):
    wrong = tenant.key[:-1] + ("a" if tenant.key[-1] != "a" else "b")
    assert client.get("/api/v1/me", headers={"X-API-Key": wrong}).status_code == 401


def test_basic_auth_needs_the_keys_own_account(client, tenant, other_tenant):
    assert client.get("/api/v1/me", headers=basic(other_tenant.name, tenant.key)).status_code == 401


def test_a_revoked_key_fails_at_once(app, client, tenant):
    assert client.get("/api/v1/me", headers=tenant.headers).status_code == 200
    with app.extensions["connector.db"].session() as session:
        accounts.revoke_key(session, tenant.name, tenant.key[3:15], utcnow())
    assert client.get("/api/v1/me", headers=tenant.headers).status_code == 401


def test_keys_are_stored_only_as_hashes(app, tenant):
    with app.extensions["connector.db"].engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM api_keys").fetchall()
    assert rows and all(tenant.key not in map(str, row) for row in rows)


def test_health_and_docs_need_no_key(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}
    assert client.get("/openapi.json").status_code == 200
