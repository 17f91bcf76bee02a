"""The Make app (integrations/make): generated from the catalog, its requests match the OpenAPI document and work."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft7Validator

from connector import catalog
from connector.integrations import files, make
from connector.integrations.cli import generated

MAKE_APP = os.path.join(files.ROOT, make.DIR)
TEMPLATE = re.compile(r"\{\{([^{}]+)\}\}")


def load(relative: str) -> Any:
    with open(os.path.join(MAKE_APP, relative), encoding="utf-8") as f:
        return json.load(f)


APP = load("makecomapp.json")
BASE = load(APP["generalCodeFiles"]["base"])
CONNECTION = APP["components"]["connection"][make.CONNECTION]["codeFiles"]


def render(value: Any, context: dict[str, Any]) -> Any:
    """IML as Make evaluates these files: a lone {{path}} keeps its value's type, otherwise text."""

    def lookup(path: str) -> Any:
        found: Any = context
        for part in path.strip().split("."):
            found = found[part]
        return found

    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value)
        if whole:
            return lookup(whole.group(1))
        return TEMPLATE.sub(lambda m: str(lookup(m.group(1))), value)
    return value


def sample_parameters(params: list[dict[str, Any]]) -> dict[str, Any]:
    """What a Make user could set in a webhook's parameters: the first option, a name, an amount."""
    values: dict[str, Any] = {}
    for param in params:
        if param["type"] == "select":
            values[param["name"]] = [param["options"][0]["value"]]
        else:
            values[param["name"]] = 5000 if param["type"] == "number" else "Ms. Tanaka"
    return values


def requests() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every request the app makes: (file, request spec, the parameters its templates read)."""
    found = [(CONNECTION["communication"], load(CONNECTION["communication"]), {"baseUrl": "http://c", "apiKey": "k"})]
    for hook in APP["components"]["webhook"].values():
        params = sample_parameters(load(hook["codeFiles"]["params"]))
        found += [(hook["codeFiles"][part], load(hook["codeFiles"][part]), params) for part in ("attach", "detach")]
    return found


def send(client, spec: dict[str, Any], context: dict[str, Any]):
    """Run one request spec through the test client as Make would (base URL and headers from base)."""
    relative = not spec["url"].startswith("{{")
    url = render((BASE["baseUrl"] + spec["url"]) if relative else spec["url"], context)
    headers = render({**(BASE["headers"] if relative else {}), **spec.get("headers", {})}, context)
    parts = urlsplit(url)
    return client.open(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        method=spec.get("method", "GET"),
        headers=headers,
        json=render(spec["body"], context) if "body" in spec else None,
    )


def test_the_committed_files_are_what_the_catalog_generates(runner):
    assert files.stale(generated()) == [], "run: flask --app wsgi integrations generate"
    result = runner.invoke(args=["integrations", "generate", "--check"])
    assert result.exit_code == 0, result.output


def test_one_webhook_and_one_instant_trigger_per_catalog_trigger():
    webhooks, modules = APP["components"]["webhook"], APP["components"]["module"]
    assert len(webhooks) == len(modules) == len(catalog.TRIGGERS)
    for key in catalog.TRIGGERS:
        module = modules[make.module_name(key)]
        assert module["moduleType"] == "instant_trigger" and module["webhook"] == make.webhook_name(key)
        assert webhooks[module["webhook"]]["webhookType"] == "web"  # dedicated: one hook per scenario
        assert load(module["codeFiles"]["samples"])["trigger"] == key
        interface = {f["name"] for f in load(module["codeFiles"]["interface"])}
        assert {"event", "role", "event_id", "occurred_at"} <= interface
    for path in APP["generalCodeFiles"].values():
        assert os.path.exists(os.path.join(MAKE_APP, path))


@pytest.mark.parametrize("path,spec,params", requests(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_request_matches_the_openapi_document(client, path, spec, params):
    openapi = client.get("/openapi.json").json
    relative = not spec["url"].startswith("{{")
    full = "/api/v1" + spec["url"] if relative else TEMPLATE.sub("", spec["url"], count=1)
    pattern = TEMPLATE.sub("[^/]+", re.escape(full).replace(r"\{\{", "{{").replace(r"\}\}", "}}"))
    matches = [p for p in openapi["paths"] if re.fullmatch(pattern, re.sub(r"\{[^/]+\}", "x", p))]
    assert matches, f"{path}: {full} is not in the OpenAPI document"
    operation = openapi["paths"][matches[0]].get(spec.get("method", "GET").lower())
    assert operation, f"{path}: {spec.get('method')} {matches[0]} is not documented"
    if "body" in spec:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        context = {"parameters": params, "webhook": {"url": "https://hook.eu1.make.com/abc", "externalHookId": "hook_x"}}
        validator = Draft7Validator({**schema, "components": openapi["components"]})
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(render(spec["body"], context))]
        assert not errors, f"{path}: {errors}"


def test_connection_is_validated_by_me_and_labelled_with_the_account_name(client, tenant):
    spec = load(CONNECTION["communication"])
    context = {"parameters": {"baseUrl": "http://localhost", "apiKey": tenant.key}}
    response = send(client, spec, context)
    assert response.status_code == 200
    assert render(spec["response"]["metadata"]["value"], {**context, "body": response.json}) == tenant.name
    context["parameters"]["apiKey"] = "ck_000000000000_not-a-real-key-at-all"
    bad = send(client, spec, context)
    assert bad.status_code == 401
    assert render(BASE["response"]["error"]["message"], {"statusCode": 401, "body": bad.json}) == "[401] invalid API key"


@pytest.mark.parametrize("key", list(catalog.TRIGGERS))
def test_attach_and_detach_subscribe_and_unsubscribe(client, tenant, key):
    hook = APP["components"]["webhook"][make.webhook_name(key)]["codeFiles"]
    params = sample_parameters(load(hook["params"]))
    context: dict[str, Any] = {
        "connection": {"baseUrl": "http://localhost", "apiKey": tenant.key},
        "parameters": params,
        "webhook": {"url": f"https://hook.eu1.make.com/{key}"},
    }
    attach = load(hook["attach"])
    attached = send(client, attach, context)
    assert attached.status_code == 201, attached.json
    context["webhook"].update(render(attach["response"]["data"], {**context, "body": attached.json}))
    assert context["webhook"]["externalHookId"] == attached.json["id"]
    assert attached.json["trigger"] == key and (attached.json["filters"] != {}) == bool(params)

    assert send(client, load(hook["detach"]), context).status_code == 204
    assert client.get(f"/api/v1/hooks/{attached.json['id']}", headers=tenant.headers).status_code == 404


def test_filters_set_in_make_select_events(client, tenant):
    hook = APP["components"]["webhook"][make.webhook_name("changed_appointment")]["codeFiles"]
    context = {
        "connection": {"baseUrl": "http://localhost", "apiKey": tenant.key},
        "parameters": {"event": ["place"], "min_price": 5000, "status": [], "role": [], "res_name": ""},
        "webhook": {"url": "https://hook.eu1.make.com/abc"},
    }
    assert send(client, load(hook["attach"]), context).status_code == 201

    def publish(event: str, price: str) -> int:
        body = {"object": "appointment", "event": event, "role": 3, "data": {"id": 1, "price": price}}
        return client.post("/api/v1/events", json=body, headers=tenant.headers).json["deliveries"]

    assert publish("place", "6000.00") == 1
    assert publish("place", "1000.00") == 0
    assert publish("edit", "6000.00") == 0
