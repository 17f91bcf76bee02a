"""Bad input gets a JSON error that names the problem, and changes nothing."""

import pytest


def hook_count(client, tenant) -> int:
    return len(client.get("/api/v1/hooks", headers=tenant.headers).json)


def assert_error(response, status, *words):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["code"] == status and body["status"] and body["message"]
    text = str(body)
    for word in words:
        assert word in text, text


def test_malformed_json(client, tenant):
    response = client.post("/api/v1/hooks", data="{not json", headers={**tenant.headers, "Content-Type": "application/json"})
    assert_error(response, 400, "JSON")
    assert hook_count(client, tenant) == 0


@pytest.mark.parametrize(
    "body, words",
    [
        ({"trigger": "new_user"}, ["target_url", "Missing data"]),
        ({"target_url": "https://x.example/h"}, ["trigger"]),
        ({"target_url": 12, "trigger": "new_user"}, ["target_url", "Not a valid string"]),
        ({"target_url": "https://x.example/h", "trigger": "new_booking"}, ["trigger", "Must be one of"]),
        (
            {"target_url": "https://x.example/h", "trigger": "new_user", "filters": "event=new"},
            ["filters", "Not a valid mapping"],
        ),
        ({"target_url": "https://x.example/h", "trigger": "new_user", "colour": "red"}, ["colour", "Unknown field"]),
        ([1, 2], ["Invalid input type"]),
    ],
)
def test_wrong_shapes_are_422(client, tenant, body, words):
    assert_error(client.post("/api/v1/hooks", json=body, headers=tenant.headers), 422, *words)
    assert hook_count(client, tenant) == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.example/h",
        "/relative/path",
        "https://",
        "not a url",
        "javascript:alert(1)",
        "http://host:99999/x",
        "http://[::1/x",
    ],
)
def test_target_url_must_be_absolute_http(client, tenant, url):
    response = client.post("/api/v1/hooks", json={"target_url": url, "trigger": "new_user"}, headers=tenant.headers)
    assert_error(response, 422, "target_url", "absolute")
    assert hook_count(client, tenant) == 0


def test_target_url_length_limit(app, client, tenant):
    app.config["MAX_TARGET_URL_LENGTH"] = 40
    response = client.post(
        "/api/v1/hooks", json={"target_url": "https://x.example/" + "a" * 40, "trigger": "new_user"}, headers=tenant.headers
    )
    assert_error(response, 422, "target_url", "at most 40")


def test_oversized_body_is_413(app, client, tenant):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = {"target_url": "https://x.example/h", "trigger": "new_user", "filters": {"res_name": "a" * 2000}}
    assert_error(client.post("/api/v1/hooks", json=body, headers=tenant.headers), 413)
    assert hook_count(client, tenant) == 0


def test_unknown_route_is_json_404(client, tenant):
    assert_error(client.get("/api/v1/nothing-here", headers=tenant.headers), 404)
    assert_error(client.get("/no/such/page"), 404)


def test_wrong_method_is_json_405(client, tenant):
    assert_error(client.put("/api/v1/hooks", json={}, headers=tenant.headers), 405)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/triggers/nope",
        "/api/v1/triggers/nope/fields",
        "/api/v1/triggers/nope/filters",
        "/api/v1/triggers/nope/samples",
        "/api/v1/hooks/hook_unknown",
    ],
)
def test_unknown_resources_are_404(client, tenant, path):
    assert_error(client.get(path, headers=tenant.headers), 404)


@pytest.mark.parametrize(
    "query, words",
    [
        ("format=excel", ["format", "Must be one of"]),
        ("lang=fr", ["lang"]),
    ],
)
def test_bad_query_parameters(client, tenant, query, words):
    assert_error(client.get(f"/api/v1/triggers/new_user/fields?{query}", headers=tenant.headers), 422, *words)


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_bad_sample_limit(client, tenant, limit):
    assert_error(client.get(f"/api/v1/triggers/new_user/samples?limit={limit}", headers=tenant.headers), 422, "limit")
