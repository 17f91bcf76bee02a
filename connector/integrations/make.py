"""The Make custom app: base, an API-key connection, a dedicated webhook and an instant trigger per catalog trigger.

The layout is the local-development project of Make's Apps Editor (`makecomapp.json` naming every
component and its code files); each code file is also what the web editor's tab of that name takes.
"""

from __future__ import annotations

from typing import Any

from .. import catalog, field_definitions
from ..services import samples
from .files import dump

DIR = "integrations/make"
CONNECTION = "apiKey"
ERRORS = {
    "message": "[{{statusCode}}] {{body.message}}",
    "type": "RuntimeError",
    "401": {"message": "[{{statusCode}}] {{body.message}}", "type": "InvalidAccessTokenError"},
    "404": {"message": "[{{statusCode}}] {{body.message}}", "type": "DataError"},
    "422": {"message": "[{{statusCode}}] {{body.message}}", "type": "DataError"},
}
SANITIZE = {"sanitize": ["request.headers.authorization"]}


def camel(key: str) -> str:
    """Make's component names take letters and digits only: changed_appointment → changedAppointment."""
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest)


def base() -> dict[str, Any]:
    return {
        "baseUrl": "{{connection.baseUrl}}/api/v1",
        "headers": {"Authorization": "Bearer {{connection.apiKey}}"},
        "response": {"error": ERRORS},
        "log": SANITIZE,
    }


def connection_communication() -> dict[str, Any]:
    """The connection test: GET /api/v1/me with the key being set up; the account name labels it."""
    return {
        "url": "{{parameters.baseUrl}}/api/v1/me",
        "method": "GET",
        "headers": {"Authorization": "Bearer {{parameters.apiKey}}"},
        "response": {"metadata": {"type": "text", "value": "{{body.name}}"}, "error": ERRORS},
        "log": SANITIZE,
    }


def connection_params() -> list[dict[str, Any]]:
    return [
        {
            "name": "baseUrl",
            "type": "url",
            "label": "Connector URL",
            "help": "Where your connector runs, without a trailing slash, e.g. https://connector.example.com",
            "required": True,
        },
        {
            "name": "apiKey",
            "type": "password",
            "label": "API key",
            "help": "An API key of your connector account (ck_…).",
            "required": True,
        },
    ]


def attach(trigger: str) -> dict[str, Any]:
    """Subscribe Make's webhook URL; the hook's id is kept as the external hook id for detach."""
    inputs = {key: f"{{{{parameters.{key}}}}}" for key in catalog.TRIGGERS[trigger].filters}
    return {
        "url": "/hooks",
        "method": "POST",
        "body": {"target_url": "{{webhook.url}}", "trigger": trigger, "filter_inputs": inputs},
        "response": {"data": {"externalHookId": "{{body.id}}"}},
    }


def detach() -> dict[str, Any]:
    return {"url": "/hooks/{{webhook.externalHookId}}", "method": "DELETE"}


def webhook_communication() -> dict[str, Any]:
    """A push is one payload: one bundle, the payload as it is."""
    return {"output": "{{body}}"}


def _paths(kind: str, name: str, *files: str) -> dict[str, str]:
    return {f: f"{kind}/{name}/{name}.{f}.{'json' if f in ('samples', 'common') else 'iml.json'}" for f in files}


def webhook_name(key: str) -> str:
    return camel(key)


def module_name(key: str) -> str:
    return "watch" + camel(key)[0].upper() + camel(key)[1:]


def manifest() -> dict[str, Any]:
    webhooks: dict[str, Any] = {}
    modules: dict[str, Any] = {}
    for key, trigger in catalog.TRIGGERS.items():
        hook, module = webhook_name(key), module_name(key)
        webhooks[hook] = {
            "label": trigger.name.en,
            "webhookType": "web",
            "connection": CONNECTION,
            "codeFiles": _paths("webhooks", hook, "communication", "params", "attach", "detach"),
        }
        modules[module] = {
            "label": f"Watch: {trigger.name.en}",
            "description": f"Triggers when {trigger.fires_when.en[0].lower()}{trigger.fires_when.en[1:]}",
            "moduleType": "instant_trigger",
            "connection": CONNECTION,
            "webhook": hook,
            "codeFiles": _paths("modules", module, "interface", "samples"),
        }
    return {
        "fileVersion": 1,
        "generalCodeFiles": {
            "base": "general/base.iml.json",
            "common": "general/common.json",
            "readme": "general/readme.md",
            "groups": "general/groups.json",
        },
        "components": {
            "connection": {
                CONNECTION: {
                    "label": "Connector API key",
                    "connectionType": "basic",
                    "codeFiles": _paths("connections", CONNECTION, "communication", "params", "common"),
                }
            },
            "webhook": webhooks,
            "module": modules,
            "rpc": {},
            "function": {},
        },
    }


README = """# Connector for Make

Instant triggers for every connector trigger: the scenario is told the moment a
booking, user, form, e-mail, reminder or purchase event happens. Connect with
your connector's URL and an API key. Generated from the connector's catalog:
`flask --app wsgi integrations generate`.
"""


def files() -> dict[str, str]:
    """Every file of the Make app, by path."""
    app = manifest()
    out: dict[str, str] = {f"{DIR}/makecomapp.json": dump(app)}
    general = app["generalCodeFiles"]
    out[f"{DIR}/{general['base']}"] = dump(base())
    out[f"{DIR}/{general['common']}"] = dump({})
    out[f"{DIR}/{general['readme']}"] = README
    out[f"{DIR}/{general['groups']}"] = dump([{"label": "Triggers", "modules": list(app["components"]["module"])}])
    connection = app["components"]["connection"][CONNECTION]["codeFiles"]
    out[f"{DIR}/{connection['communication']}"] = dump(connection_communication())
    out[f"{DIR}/{connection['params']}"] = dump(connection_params())
    out[f"{DIR}/{connection['common']}"] = dump({})
    for key in catalog.TRIGGERS:
        hook = app["components"]["webhook"][webhook_name(key)]["codeFiles"]
        out[f"{DIR}/{hook['communication']}"] = dump(webhook_communication())
        out[f"{DIR}/{hook['params']}"] = dump(field_definitions.make_parameters(key))
        out[f"{DIR}/{hook['attach']}"] = dump(attach(key))
        out[f"{DIR}/{hook['detach']}"] = dump(detach())
        module = app["components"]["module"][module_name(key)]["codeFiles"]
        out[f"{DIR}/{module['interface']}"] = dump(field_definitions.make_interface(key))
        out[f"{DIR}/{module['samples']}"] = dump(samples.canned(key)[0])
    return out
