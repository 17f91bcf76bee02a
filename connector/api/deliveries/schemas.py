"""Schemas of /deliveries, and of the attempt answers of /hooks/{id}/test."""

import marshmallow as ma

STATUSES = ["pending", "succeeded", "failed", "cancelled"]


class AttemptSchema(ma.Schema):
    started_at = ma.fields.DateTime(required=True)
    duration_ms = ma.fields.Integer(required=True)
    status_code = ma.fields.Integer(allow_none=True, required=True)
    error = ma.fields.String(allow_none=True, required=True)
    response_excerpt = ma.fields.Function(
        lambda a: a.response_excerpt.decode("utf-8", "replace"),
        required=True,
        metadata={"type": "string", "description": "The first bytes of the response body."},
    )


class RecordedAttemptSchema(AttemptSchema):
    outcome = ma.fields.String(required=True, metadata={"enum": ["succeeded", "retry", "failed", "gone"]})


class DeliverySchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "msg_…: the webhook-id header, the same on every retry."})
    hook_id = ma.fields.String(required=True)
    event_id = ma.fields.Function(lambda d: d.event.id, required=True, metadata={"type": "string"})
    trigger = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    attempts = ma.fields.Integer(required=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True, required=True)
    last_status_code = ma.fields.Integer(allow_none=True, required=True)
    last_error = ma.fields.String(allow_none=True, required=True)


class DeliveryDetailSchema(DeliverySchema):
    payload = ma.fields.Dict(required=True)
    attempt_log = ma.fields.List(ma.fields.Nested(RecordedAttemptSchema), data_key="attempts_log", required=True)


class DeliveryListArgs(ma.Schema):
    hook_id = ma.fields.String()
    event_id = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
