"""Schemas of /triggers: the catalog, field definitions, filter inputs and samples."""

import marshmallow as ma

from ... import catalog
from ..passthrough import PassThroughSchema


class LabelSchema(ma.Schema):
    en = ma.fields.String(required=True)
    ja = ma.fields.String(required=True)


class EventValueSchema(ma.Schema):
    value = ma.fields.String(required=True)
    label = ma.fields.Nested(LabelSchema, required=True)


class CodeSchema(ma.Schema):
    value = ma.fields.Integer(required=True)
    label = ma.fields.Nested(LabelSchema, required=True)


class TriggerSchema(ma.Schema):
    key = ma.fields.String(required=True, metadata={"enum": list(catalog.TRIGGERS)})
    object = ma.fields.String(required=True, metadata={"enum": list(catalog.OBJECTS)})
    name = ma.fields.Nested(LabelSchema, required=True)
    fires_when = ma.fields.Nested(LabelSchema, required=True)
    events = ma.fields.List(ma.fields.Nested(EventValueSchema), required=True)
    filters = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "Keys of the filter inputs offered."})


class CatalogSchema(ma.Schema):
    triggers = ma.fields.List(ma.fields.Nested(TriggerSchema), required=True)
    roles = ma.fields.List(ma.fields.Nested(CodeSchema), required=True)
    statuses = ma.fields.List(ma.fields.Nested(CodeSchema), required=True)


class CatalogFieldSchema(ma.Schema):
    key = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    label = ma.fields.Nested(LabelSchema, required=True)
    children = ma.fields.List(ma.fields.Nested(lambda: CatalogFieldSchema()))


class TriggerDetailSchema(TriggerSchema):
    fields = ma.fields.List(ma.fields.Nested(CatalogFieldSchema), required=True)
    payload_schema = ma.fields.Dict(required=True, metadata={"description": "JSON Schema of the payload."})


class FormatArgs(ma.Schema):
    format = ma.fields.String(
        load_default="zapier",
        validate=ma.validate.OneOf(["zapier", "make"]),
        metadata={"description": "zapier: outputFields / inputFields; make: interface / parameters."},
    )
    lang = ma.fields.String(
        load_default="en", validate=ma.validate.OneOf(["en", "ja"]), metadata={"description": "Label language."}
    )


class SamplesArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=3, validate=ma.validate.Range(min=1, max=100))


class FieldDefinitionSchema(PassThroughSchema):
    """A Zapier field (key, label, type, ...) or a Make entry (name, label, type, ...)."""

    key = ma.fields.String()
    name = ma.fields.String()
    label = ma.fields.String(required=True)
    type = ma.fields.String()
    primary = ma.fields.Boolean()
    list = ma.fields.Boolean()
    required = ma.fields.Boolean()
    multiple = ma.fields.Boolean()
    helpText = ma.fields.String()
    help = ma.fields.String()
    sample = ma.fields.Raw(allow_none=True)
    choices = ma.fields.List(ma.fields.Dict())
    options = ma.fields.List(ma.fields.Dict())
    spec = ma.fields.List(ma.fields.Dict())


class PayloadSchema(PassThroughSchema):
    """A payload as pushed: the object's fields plus the envelope."""

    trigger = ma.fields.String(required=True)
    event = ma.fields.String(required=True)
    role = ma.fields.Integer(required=True)
    event_id = ma.fields.String(required=True)
    occurred_at = ma.fields.String(required=True)
