"""Schemas of /hooks."""

from datetime import UTC

import marshmallow as ma

from ... import catalog
from ...delivery import smtp
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


class SmtpInSchema(ma.Schema):
    host = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    port = ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=1, max=65535), metadata={"description": "Default 587, 465 or 25."}
    )
    security = ma.fields.String(
        load_default="starttls",
        validate=ma.validate.OneOf(smtp.SECURITY),
        metadata={"description": "starttls (default), tls (implicit TLS) or none."},
    )
    username = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    password = ma.fields.String(
        allow_none=True,
        load_only=True,
        validate=ma.validate.Length(max=1024),
        metadata={"description": "Never shown again. Left out of a PATCH, the stored one stays."},
    )
    sender = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=320),
        metadata={"description": "From of every e-mail instead of the platform's (which then becomes the Reply-To)."},
    )


SMTP_HELP = (
    "email_sent hooks only, instead of target_url: the connector sends each e-mail through this server itself "
    "(retried and logged like any delivery)."
)


class SmtpOutSchema(ma.Schema):
    host = ma.fields.String(required=True)
    port = ma.fields.Integer(required=True)
    security = ma.fields.String(required=True, metadata={"enum": list(smtp.SECURITY)})
    username = ma.fields.String(allow_none=True, required=True)
    password_set = ma.fields.Function(lambda s: bool(s.password), required=True, metadata={"type": "boolean"})
    sender = ma.fields.String(allow_none=True, required=True)


class HookCreateSchema(ma.Schema):
    target_url = ma.fields.String(metadata={"description": "Absolute http(s) URL that receives the pushes."})
    smtp = ma.fields.Nested(SmtpInSchema, metadata={"description": SMTP_HELP})
    trigger = ma.fields.String(required=True, validate=ma.validate.OneOf(list(catalog.TRIGGERS)))
    filters = ma.fields.Dict(load_default=None, allow_none=True, metadata={"description": FILTERS_HELP})
    filter_inputs = ma.fields.Dict(load_default=None, allow_none=True, metadata={"description": INPUTS_HELP})

    @ma.validates_schema
    def _one_destination(self, data, **_kwargs):
        if "target_url" not in data and "smtp" not in data:
            raise ma.ValidationError("Missing data for required field (or give smtp instead).", "target_url")


class HookPatchSchema(ma.Schema):
    target_url = ma.fields.String()
    smtp = ma.fields.Nested(SmtpInSchema, metadata={"description": SMTP_HELP})
    filters = ma.fields.Dict(metadata={"description": FILTERS_HELP})
    filter_inputs = ma.fields.Dict(metadata={"description": INPUTS_HELP})
    status = ma.fields.String(
        validate=ma.validate.OneOf(["active", "paused"]),
        metadata={"description": "paused stops deliveries; active resumes a paused or disabled hook."},
    )


class HookSchema(ma.Schema):
    id = ma.fields.String(required=True)
    trigger = ma.fields.String(required=True)
    target_url = ma.fields.String(required=True, metadata={"description": "smtp://host:port for a hook with an SMTP server."})
    smtp = ma.fields.Nested(SmtpOutSchema, allow_none=True, metadata={"description": "The SMTP server, if any."})
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
