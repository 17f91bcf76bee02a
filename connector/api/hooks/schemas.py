"""Schemas of /hooks."""

from datetime import UTC

import marshmallow as ma

from ... import catalog
from ..deliveries.schemas import AttemptSchema

FILTERS_HELP = (
    "Every condition must hold. Keys are dotted payload paths; a value means equals, a list means "
    "one of, an object holds operators eq ne in gt gte lt lte contains exists. "
    'Examples: {"event": "place"}, {"res_name": "Ms. Tanaka"}, {"price": {"gte": 5000}}, {"status": 35}.'
)
INPUTS_HELP = (
    "The trigger's filter inputs by key, as GET /triggers/{key}/filters lists them "
    "(what Zapier and Make send as they are); blank values are ignored."
)


class HookCreateSchema(ma.Schema):
    target_url = ma.fields.String(required=True, metadata={"description": "Absolute http(s) URL that receives the pushes."})
    trigger = ma.fields.String(required=True, validate=ma.validate.OneOf(list(catalog.TRIGGERS)))
    filters = ma.fields.Dict(load_default=None, allow_none=True, metadata={"description": FILTERS_HELP})
    filter_inputs = ma.fields.Dict(load_default=None, allow_none=True, metadata={"description": INPUTS_HELP})


class HookPatchSchema(ma.Schema):
    target_url = ma.fields.String()
    filters = ma.fields.Dict(metadata={"description": FILTERS_HELP})
    filter_inputs = ma.fields.Dict(metadata={"description": INPUTS_HELP})
    status = ma.fields.String(
        validate=ma.validate.OneOf(["active", "paused"]),
        metadata={"description": "paused stops deliveries; active resumes a paused or disabled hook."},
    )


class HookSchema(ma.Schema):
    id = ma.fields.String(required=True)
    trigger = ma.fields.String(required=True)
    target_url = ma.fields.String(required=True)
    filters = ma.fields.Dict(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["active", "paused", "disabled"]})
    disabled_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class HookCreatedSchema(HookSchema):
    secret = ma.fields.String(
        required=True,
        metadata={"description": "whsec_… signing secret (Standard Webhooks). Shown here and on rotation only."},
    )


class HookListArgs(ma.Schema):
    trigger = ma.fields.String(validate=ma.validate.OneOf(list(catalog.TRIGGERS)))
    status = ma.fields.String(validate=ma.validate.OneOf(["active", "paused", "disabled"]))


class DeleteByUrlArgs(ma.Schema):
    target_url = ma.fields.String(required=True, metadata={"description": "Every hook of yours on this URL goes."})


class HookSecretSchema(HookSchema):
    secret = ma.fields.String(required=True)
    previous_secret_expires_at = ma.fields.DateTime(
        allow_none=True, required=True, metadata={"description": "Until then the old secret signs too."}
    )


class RotateArgs(ma.Schema):
    grace_seconds = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=7 * 24 * 3600),
        metadata={"description": "How long the old secret keeps signing; default 24 h."},
    )


class RecoverArgs(ma.Schema):
    since = ma.fields.AwareDateTime(required=True, default_timezone=UTC)


class RecoveredSchema(ma.Schema):
    recovered = ma.fields.Integer(required=True, metadata={"description": "Deliveries queued again."})


class HookTestSchema(ma.Schema):
    webhook_id = ma.fields.String(required=True)
    payload = ma.fields.Dict(required=True)
    attempt = ma.fields.Nested(AttemptSchema, required=True)
