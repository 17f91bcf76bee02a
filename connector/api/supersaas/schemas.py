"""Schemas of the SuperSaaS-compatible endpoints: its hooks API and the inbound URL."""

import marshmallow as ma

from ... import catalog

CODES_HELP = "SuperSaaS's event code: " + ", ".join(
    f"{letter} {code.trigger}{f' ({code.event})' if code.event else ''}" for letter, code in catalog.SUPERSAAS_CODES.items()
)


class SupersaasAuthArgs(ma.Schema):
    """SuperSaaS's own way to pass credentials; Basic (account name, key), Bearer and X-API-Key work too."""

    class Meta:
        unknown = ma.EXCLUDE

    account = ma.fields.String(metadata={"description": "The account name (with api_key)."})
    api_key = ma.fields.String(metadata={"description": "An API key of that account."})


class SubscribeArgs(SupersaasAuthArgs):
    event = ma.fields.String(validate=ma.validate.OneOf(list(catalog.SUPERSAAS_CODES)), metadata={"description": CODES_HELP})
    parent_id = ma.fields.Raw(
        metadata={
            "description": "A schedule id (appointment and reminder events) or form template id (form events) "
            "to narrow the hook to; ignored for the others.",
            "type": "string",
        }
    )
    target_url = ma.fields.String(metadata={"description": "Absolute http(s) URL that receives the pushes."})


class UnsubscribeArgs(SupersaasAuthArgs):
    id = ma.fields.String(metadata={"description": "The id the subscribe call answered with."})
    parent_id = ma.fields.Raw(metadata={"description": "Accepted as SuperSaaS clients send it; not needed.", "type": "string"})


class SupersaasHookSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "Keep it to unsubscribe (a string: hook_…)."})
    event = ma.fields.String(required=True)
    parent_id = ma.fields.Raw(allow_none=True, metadata={"type": "string"})
    target_url = ma.fields.String(required=True)
    trigger = ma.fields.String(required=True)
    filters = ma.fields.Dict(required=True)
    secret = ma.fields.String(required=True, metadata={"description": "whsec_… signing secret (Standard Webhooks)."})


class InboundArgs(ma.Schema):
    object = ma.fields.String(
        validate=ma.validate.OneOf(catalog.OBJECTS),
        metadata={"description": "Which object the webhook sends, when its event and fields leave it open."},
    )


class InboundUrlSchema(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "Give SuperSaaS this URL as its webhook target."})
    token = ma.fields.String(required=True, metadata={"description": "The secret in the URL, shown this once."})
