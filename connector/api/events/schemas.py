"""Schemas of /events."""

from datetime import UTC
from typing import Any

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


_FIELDS = frozenset(EventInSchema._declared_fields)
_EVENTS = {obj: frozenset(catalog.events_of(obj)) for obj in catalog.OBJECTS}
_ROLES = frozenset(catalog.ROLES)


def load_plain(body: Any) -> dict[str, Any] | None:
    """What EventInSchema().load(body) returns, for a body that needs no conversion.

    The ingest hot path: a valid event without `occurred_at` is checked here in a
    few microseconds; anything else (an error, a time to parse) returns None and goes
    through the schema, which gives the same result or the same errors.
    """
    if type(body) is not dict or not body.keys() <= _FIELDS or body.get("occurred_at") is not None:
        return None
    events, role, data = _EVENTS.get(body.get("object")), body.get("role"), body.get("data")
    if events is None or body.get("event") not in events or type(role) is not int or role not in _ROLES:
        return None
    if type(data) is not dict:
        return None
    return {"object": body["object"], "event": body["event"], "role": role, "occurred_at": None, "data": data}


def load_plain_many(body: Any) -> list[dict[str, Any]] | None:
    if type(body) is not list:
        return None
    loaded = [load_plain(item) for item in body]
    return None if None in loaded else loaded


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
