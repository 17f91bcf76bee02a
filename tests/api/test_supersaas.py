"""SuperSaaS compatibility: its hooks API (one-letter event codes) and its own webhooks as events."""

import base64

import pytest

from connector import catalog


def supersaas_auth(tenant) -> dict[str, str]:
    return {"account": tenant.name, "api_key": tenant.key}


def subscribe(client, tenant, **body):
    return client.post("/api/hooks", query_string=supersaas_auth(tenant), json=body)


def publish(client, tenant, obj, event, data, role=3):
    response = client.post(
        "/api/v1/events", headers=tenant.headers, json={"object": obj, "event": event, "role": role, "data": data}
    )
    assert response.status_code == 202, response.json
    return response.json


@pytest.mark.parametrize("code", list(catalog.SUPERSAAS_CODES))
def test_every_event_code_subscribes_to_its_trigger(client, tenant, code):
    response = subscribe(client, tenant, event=code, target_url="https://example.com/ss", parent_id=3412)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["id"].startswith("hook_") and body["event"] == code and body["parent_id"] == 3412
    hook = client.get(f"/api/v1/hooks/{body['id']}", headers=tenant.headers).json
    assert hook["trigger"] == catalog.SUPERSAAS_CODES[code].trigger
    if code in "RF":
        assert hook["filters"]["event"] == {"R": "reminder", "F": "follow_up"}[code]


def test_parent_id_narrows_appointment_hooks_to_one_schedule(client, tenant):
    assert subscribe(client, tenant, event="C", target_url="https://example.com/ss", parent_id="3412").status_code == 201
    assert publish(client, tenant, "appointment", "edit", {"id": 1, "schedule_id": 3412})["deliveries"] == 1
    assert publish(client, tenant, "appointment", "edit", {"id": 2, "schedule_id": 9999})["deliveries"] == 0


def test_parent_id_of_a_user_hook_is_the_account_and_filters_nothing(client, tenant):
    hook = subscribe(client, tenant, event="U", target_url="https://example.com/ss", parent_id=1).json
    assert hook["filters"] == {}


def test_r_and_f_split_the_reminder_trigger(client, tenant):
    subscribe(client, tenant, event="F", target_url="https://example.com/follow-up")
    assert publish(client, tenant, "reminder", "follow_up", {"id": 1}, role=7)["deliveries"] == 1
    assert publish(client, tenant, "reminder", "reminder", {"id": 1}, role=7)["deliveries"] == 0


def test_credentials_as_basic_bearer_or_in_a_form_body(client, tenant):
    basic = base64.b64encode(f"{tenant.name}:{tenant.key}".encode()).decode()
    form = client.post(
        "/api/hooks", headers={"Authorization": f"Basic {basic}"}, data={"event": "N", "target_url": "https://example.com/a"}
    )
    assert form.status_code == 201, form.json
    bearer = client.post("/api/hooks", headers=tenant.headers, json={"event": "M", "target_url": "https://example.com/b"})
    assert bearer.status_code == 201
    in_body = client.post("/api/hooks", data={**supersaas_auth(tenant), "event": "P", "target_url": "https://example.com/c"})
    assert in_body.status_code == 201
    assert len(client.get("/api/v1/hooks", headers=tenant.headers).json) == 3


def test_bad_credentials_and_bad_input_are_clear_4xx(client, tenant, other_tenant):
    body = {"event": "N", "target_url": "https://example.com/a"}
    assert client.post("/api/hooks", json=body).status_code == 401
    wrong_account = client.post("/api/hooks", query_string={"account": other_tenant.name, "api_key": tenant.key}, json=body)
    assert wrong_account.status_code == 401 and wrong_account.json["message"] == "invalid API key"
    unknown = subscribe(client, tenant, event="X", target_url="https://example.com/a")
    assert unknown.status_code == 422 and "event" in unknown.json["message"]
    missing = subscribe(client, tenant, event="N")
    assert missing.status_code == 422 and missing.json["message"] == "missing target_url"
    bad_parent = subscribe(client, tenant, event="N", target_url="https://example.com/a", parent_id="abc")
    assert bad_parent.status_code == 422 and "parent_id" in bad_parent.json["message"]
    bad_url = subscribe(client, tenant, event="N", target_url="ftp://example.com/a")
    assert bad_url.status_code == 422 and "target_url" in bad_url.json["message"]


def test_delete_by_id_in_the_body_or_the_query(client, tenant, other_tenant):
    first = subscribe(client, tenant, event="N", target_url="https://example.com/a", parent_id=1).json
    second = subscribe(client, tenant, event="C", target_url="https://example.com/b", parent_id=1).json
    deleted = client.delete("/api/hooks", query_string=supersaas_auth(tenant), json={"id": first["id"], "parent_id": 1})
    assert deleted.status_code == 204
    again = client.delete("/api/hooks", query_string=supersaas_auth(tenant), json={"id": first["id"], "parent_id": 1})
    assert again.status_code == 204
    by_query = client.delete("/api/hooks", query_string={**supersaas_auth(tenant), "id": second["id"], "parent_id": 1})
    assert by_query.status_code == 204
    assert client.get("/api/v1/hooks", headers=tenant.headers).json == []
    other = subscribe(client, other_tenant, event="N", target_url="https://example.com/c").json
    assert client.delete("/api/hooks", query_string={**supersaas_auth(tenant), "id": other["id"]}).status_code == 404
    assert client.delete("/api/hooks", query_string=supersaas_auth(tenant)).status_code == 422


# Inbound: SuperSaaS's own webhook POSTs ----------------------------------------------------------


@pytest.fixture
def inbound(client, tenant):
    response = client.post("/api/v1/supersaas/inbound", headers=tenant.headers)
    assert response.status_code == 201
    url = response.json["url"]
    assert url.startswith("http://localhost/supersaas/sst_") and url.endswith(response.json["token"])
    return url.removeprefix("http://localhost")


APPOINTMENT = {
    "id": 81723,
    "schedule_id": 3412,
    "start": "2026-12-06T19:00:00+09:00",
    "res_name": "Ms. Tanaka",
    "price": "6000.00",
}


@pytest.mark.parametrize(
    "body,triggers",
    [
        ({**APPOINTMENT, "event": "place", "role": 3}, ["changed_appointment"]),
        ({**APPOINTMENT, "event": "create", "role": "3"}, ["new_appointment", "changed_appointment"]),
        ({"id": 5, "name": "hanako", "email": "h@example.jp", "event": "new", "role": 0}, ["new_user", "changed_user"]),
        ({"id": 9, "super_form_id": 2, "content": {"q": "a"}, "event": "change", "role": 3}, ["changed_form"]),
        ({"id": 9, "super_form_id": 2, "reservation_process_id": 81723, "event": "new", "role": 3}, ["changed_appointment"]),
        ({**APPOINTMENT, "event": "follow_up", "role": 7}, ["reminder"]),
        ({"to": "h@example.jp", "subject": "ご予約", "body": "..."}, ["email_sent"]),
        ({"id": 3, "product": "回数券", "price": "5000", "event": "purchase", "role": 7}, ["purchase"]),
        ({**APPOINTMENT, "event": "restore", "role": 5, "trigger": "changed_appointment"}, ["changed_appointment"]),
    ],
)
def test_supersaas_webhooks_are_published_as_events(client, tenant, inbound, body, triggers):
    response = client.post(inbound, json=body)
    assert response.status_code == 202, response.json
    assert response.json["triggers"] == triggers


def test_an_inbound_event_reaches_hooks_with_the_supersaas_fields(client, tenant, inbound):
    client.post(
        "/api/v1/hooks", headers=tenant.headers, json={"target_url": "https://example.com/x", "trigger": "changed_appointment"}
    )
    answer = client.post(inbound, json={**APPOINTMENT, "event": "place", "role": 3}).json
    assert answer["deliveries"] == 1
    payload = client.get("/api/v1/triggers/changed_appointment/samples?limit=1", headers=tenant.headers).json[0]
    assert payload["event_id"] == answer["id"] and payload["event"] == "place" and payload["role"] == 3
    assert payload["res_name"] == "Ms. Tanaka" and "trigger" in payload


def test_form_encoded_webhooks_and_an_object_hint(client, tenant, inbound):
    form = client.post(inbound, data={"id": "5", "name": "hanako", "event": "change", "role": "3"})
    assert form.status_code == 202 and form.json["triggers"] == ["changed_user"]
    ambiguous = client.post(inbound, json={"id": 5, "event": "new", "role": 3})
    assert ambiguous.status_code == 422 and "object" in ambiguous.json["message"]
    hinted = client.post(inbound + "?object=form", json={"id": 5, "event": "new", "role": 3})
    assert hinted.json["triggers"] == ["new_form", "changed_form"]


def test_bad_webhooks_are_422_and_name_the_problem(client, tenant, inbound):
    bad_role = client.post(inbound, json={**APPOINTMENT, "event": "place", "role": 9})
    assert bad_role.status_code == 422 and "role" in bad_role.json["message"]
    unknown = client.post(inbound, json={**APPOINTMENT, "event": "teleport", "role": 3})
    assert unknown.status_code == 422 and "event" in unknown.json["message"]
    not_an_object = client.post(inbound, json=[1, 2])
    assert not_an_object.status_code == 422


def test_inbound_urls_are_secret_rotated_and_revoked(client, tenant, inbound):
    body = {**APPOINTMENT, "event": "place", "role": 3}
    assert client.post("/supersaas/sst_made-up", json=body).status_code == 404
    newer = client.post("/api/v1/supersaas/inbound", headers=tenant.headers).json["url"].removeprefix("http://localhost")
    assert client.post(inbound, json=body).status_code == 404
    assert client.post(newer, json=body).status_code == 202
    assert client.delete("/api/v1/supersaas/inbound", headers=tenant.headers).status_code == 204
    assert client.post(newer, json=body).status_code == 404


def test_inbound_url_command(runner, client, tenant):
    result = runner.invoke(args=["supersaas", "inbound-url", tenant.name, "--base-url", "https://connector.example.com/"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("https://connector.example.com/supersaas/sst_")
    path = url.removeprefix("https://connector.example.com")
    assert client.post(path, json={**APPOINTMENT, "event": "place", "role": 3}).status_code == 202
    assert runner.invoke(args=["supersaas", "inbound-url", "nobody", "--base-url", "https://x"]).exit_code != 0
