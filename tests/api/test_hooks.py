"""REST hooks: subscribe, list, read, change, unsubscribe, each within one account."""

import pytest

from connector.delivery.signing import sign

URL = "https://hooks.zapier.com/hooks/standard/123/abc"


def subscribe(client, tenant, **body):
    body = {"target_url": URL, "trigger": "changed_appointment", **body}
    response = client.post("/api/v1/hooks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_subscribe_answers_id_secret_and_status(client, tenant):
    hook = subscribe(client, tenant, filters={"event": "place"})
    assert hook["id"].startswith("hook_")
    assert hook["status"] == "active"
    assert hook["secret"].startswith("whsec_")
    assert sign(hook["secret"], "msg_1", 1, b"{}").startswith("v1,")  # a usable signing secret
    assert hook["filters"] == {"event": "place"}
    assert hook["trigger"] == "changed_appointment" and hook["target_url"] == URL


def test_read_and_list_never_show_the_secret(client, tenant):
    hook = subscribe(client, tenant)
    one = client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json
    assert one["id"] == hook["id"] and "secret" not in one
    listed = client.get("/api/v1/hooks", headers=tenant.headers).json
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]


def test_filter_inputs_from_zapier_or_make(client, tenant):
    hook = subscribe(client, tenant, filter_inputs={"event": ["place"], "min_price": "5000", "res_name": "", "status": []})
    assert hook["filters"] == {"event": {"in": ["place"]}, "price": {"gte": 5000}}


def test_filters_and_inputs_combine(client, tenant):
    hook = subscribe(client, tenant, filters={"schedule_name": "ヨガ教室"}, filter_inputs={"res_name": "Ms. Tanaka"})
    assert hook["filters"] == {"schedule_name": "ヨガ教室", "res_name": "Ms. Tanaka"}


@pytest.mark.parametrize(
    "body, where, words",
    [
        ({"filters": {"price": {"between": 1}}}, "filters.price.between", "unknown operator 'between'"),
        ({"filters": {"form..size": "M"}}, "filters.form..size", "malformed path"),
        ({"filter_inputs": {"event": ["cancel"]}}, "filter_inputs.event", "unknown event"),
    ],
)
def test_invalid_filters_are_422_naming_them(client, tenant, body, where, words):
    response = client.post(
        "/api/v1/hooks", json={"target_url": URL, "trigger": "changed_appointment", **body}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert words in response.json["errors"][where]
    assert client.get("/api/v1/hooks", headers=tenant.headers).json == []


def test_pagination(client, tenant):
    ids = [subscribe(client, tenant, target_url=f"{URL}/{i}")["id"] for i in range(5)]
    page = client.get("/api/v1/hooks?page=2&page_size=2", headers=tenant.headers)
    assert [h["id"] for h in page.json] == ids[2:4]
    assert '"total": 5' in page.headers["X-Pagination"]
    assert client.get("/api/v1/hooks?page_size=500", headers=tenant.headers).status_code == 422
    far = client.get(f"/api/v1/hooks?page={10**30}&page_size=1", headers=tenant.headers)  # found by schemathesis
    assert far.status_code == 200 and far.json == []


def test_list_filtered_by_trigger(client, tenant):
    subscribe(client, tenant)
    purchase = subscribe(client, tenant, trigger="purchase")
    listed = client.get("/api/v1/hooks?trigger=purchase", headers=tenant.headers).json
    assert [h["id"] for h in listed] == [purchase["id"]]


def test_patch_filters_pause_and_resume(client, tenant):
    hook = subscribe(client, tenant)
    path = f"/api/v1/hooks/{hook['id']}"
    changed = client.patch(path, json={"filters": {"status": 35}}, headers=tenant.headers).json
    assert changed["filters"] == {"status": 35} and changed["status"] == "active"
    assert client.patch(path, json={"status": "paused"}, headers=tenant.headers).json["status"] == "paused"
    assert client.patch(path, json={"status": "active"}, headers=tenant.headers).json["status"] == "active"
    assert client.get(path, headers=tenant.headers).json["filters"] == {"status": 35}


def test_patch_re_enables_a_disabled_hook(app, client, tenant):
    hook = subscribe(client, tenant)
    with app.extensions["connector.db"].engine.begin() as conn:
        conn.exec_driver_sql("UPDATE hooks SET status='disabled', disabled_reason='no success for 5 days'")
    path = f"/api/v1/hooks/{hook['id']}"
    assert client.get(path, headers=tenant.headers).json["disabled_reason"] == "no success for 5 days"
    again = client.patch(path, json={"status": "active"}, headers=tenant.headers).json
    assert again["status"] == "active" and again["disabled_reason"] is None


@pytest.mark.parametrize(
    "change, status",
    [
        ({"status": "disabled"}, 422),
        ({"status": "deleted"}, 422),
        ({"filters": {"x": {"nope": 1}}}, 422),
        ({"target_url": "ftp://x"}, 422),
        ({"trigger": "purchase"}, 422),
    ],
)
def test_bad_patch_changes_nothing(client, tenant, change, status):
    hook = subscribe(client, tenant, filters={"event": "place"})
    path = f"/api/v1/hooks/{hook['id']}"
    assert client.patch(path, json=change, headers=tenant.headers).status_code == status
    after = client.get(path, headers=tenant.headers).json
    assert after["filters"] == {"event": "place"} and after["status"] == "active" and after["target_url"] == URL


def test_delete_is_204_twice_then_gone(client, tenant):
    hook = subscribe(client, tenant)
    path = f"/api/v1/hooks/{hook['id']}"
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.get(path, headers=tenant.headers).status_code == 404
    assert client.get("/api/v1/hooks", headers=tenant.headers).json == []


def test_delete_by_target_url(client, tenant):
    subscribe(client, tenant)
    subscribe(client, tenant, trigger="new_user")
    keep = subscribe(client, tenant, target_url=URL + "/other")
    response = client.delete("/api/v1/hooks", query_string={"target_url": URL}, headers=tenant.headers)
    assert response.status_code == 204
    assert [h["id"] for h in client.get("/api/v1/hooks", headers=tenant.headers).json] == [keep["id"]]
    missing = client.delete("/api/v1/hooks", headers=tenant.headers)
    assert missing.status_code == 422 and "target_url" in str(missing.json["errors"])


def test_another_accounts_hook_is_404_and_untouched(client, tenant, other_tenant):
    hook = subscribe(client, tenant)
    path = f"/api/v1/hooks/{hook['id']}"
    theirs = other_tenant.headers
    for response in (
        client.get(path, headers=theirs),
        client.patch(path, json={"status": "paused"}, headers=theirs),
        client.delete(path, headers=theirs),
    ):
        assert response.status_code == 404
        assert hook["id"] not in response.get_data(as_text=True) or "no hook" in response.json["message"]
        assert URL not in response.get_data(as_text=True)
    assert client.get("/api/v1/hooks", headers=theirs).json == []
    client.delete("/api/v1/hooks", query_string={"target_url": URL}, headers=theirs)
    assert client.get(path, headers=tenant.headers).json["status"] == "active"
