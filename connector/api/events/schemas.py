"""Schemas of /events."""

from datetime import UTC

import marshmallow as ma

from ... import catalog


class EventInSchema(ma.Schema):
    object = ma.fields.String(required=True, validate=ma.validate.OneOf(catalog.OBJECTS))
    event = ma.fields.String(required=True, metadata={"description": "One the catalog allows for the object."})
    role = ma.fields.Integer(required=True, strict=True, validate=ma.validate.OneOf(list(catalog.ROLES)))
    occurred_at = ma.fields.AwareDateTime(
        load_default=None, default_timezone=UTC, metadata={"description": "Defaults to now; no offset means UTC."}
    )
    data = ma.fields.Dict(required=True, keys=ma.fields.String(), metadata={"description": "The object's fields."})

    @ma.validates_schema
    def _event_of_object(self, body, **_kw):
        obj, event = body.get("object"), body.get("event")
        if obj in catalog.OBJECTS and event not in catalog.events_of(obj):
            raise ma.ValidationError(
                f"{event!r} is not an event of {obj}: use one of {', '.join(catalog.events_of(obj))}", "event"
            )


class PublishedSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "evt_…"})
    triggers = ma.fields.List(ma.fields.String(), required=True)
    deliveries = ma.fields.Integer(required=True)


class BatchPublishedSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(PublishedSchema), required=True)
    deliveries = ma.fields.Integer(required=True)


class PollArgs(ma.Schema):
    trigger = ma.fields.String(required=True, validate=ma.validate.OneOf(list(catalog.TRIGGERS)))
    after = ma.fields.String(metadata={"description": "An event id: only newer payloads."})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
