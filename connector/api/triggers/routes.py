"""The catalog for subscribers: triggers, field definitions, filter inputs and samples."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ... import catalog, field_definitions
from ...services import samples
from ..auth import current_account
from ..session import db_session
from .schemas import (
    CatalogSchema,
    FieldDefinitionSchema,
    FormatArgs,
    PayloadSchema,
    SamplesArgs,
    TriggerDetailSchema,
)

blp = Blueprint("triggers", __name__, url_prefix="/api/v1/triggers", description="The trigger catalog.")


def _trigger(key: str) -> str:
    if key not in catalog.TRIGGERS:
        abort(404, message=f"no trigger {key!r}: use one of {', '.join(catalog.TRIGGERS)}")
    return key


def _catalog_field(f: catalog.Field) -> dict:
    out = {"key": f.key, "type": f.type, "label": f.label.as_dict()}
    if f.children:
        out["children"] = [_catalog_field(c) for c in f.children]
    return out


@blp.route("")
class Triggers(MethodView):
    @blp.response(200, CatalogSchema)
    def get(self):
        """The trigger catalog

        Every trigger with its names (English, Japanese), `event` values and filter inputs,
        plus the `role` table and the payment status codes.
        """
        return {
            "triggers": [field_definitions.trigger_summary(k) for k in catalog.TRIGGERS],
            **field_definitions.catalog_tables(),
        }


@blp.route("/<key>")
class TriggerByKey(MethodView):
    @blp.response(200, TriggerDetailSchema)
    @blp.alt_response(404, description="Unknown trigger")
    def get(self, key):
        """One trigger, its fields and the JSON Schema of its payload"""
        key = _trigger(key)
        return {
            **field_definitions.trigger_summary(key),
            "fields": [_catalog_field(f) for f in catalog.trigger_fields(key)],
            "payload_schema": catalog.payload_schema(key),
        }


@blp.route("/<key>/fields")
class TriggerFields(MethodView):
    @blp.arguments(FormatArgs, location="query")
    @blp.response(200, FieldDefinitionSchema(many=True))
    @blp.alt_response(404, description="Unknown trigger")
    def get(self, args, key):
        """Output-field definitions for field mapping

        `format=zapier`: Zapier `outputFields` (`primary` on `event_id`, a `sample` each).
        `format=make`: Make `interface` entries, with `options` for `event`, `role`, `status`.
        """
        key = _trigger(key)
        if args["format"] == "make":
            return field_definitions.make_interface(key, args["lang"])
        return field_definitions.zapier_output_fields(key, samples.canned(key)[0], args["lang"])


@blp.route("/<key>/filters")
class TriggerFilters(MethodView):
    @blp.arguments(FormatArgs, location="query")
    @blp.response(200, FieldDefinitionSchema(many=True))
    @blp.alt_response(404, description="Unknown trigger")
    def get(self, args, key):
        """Filter inputs a subscriber can set at subscribe time

        Zapier `inputFields` or Make `parameters`. Send the chosen values as
        `filter_inputs` when subscribing (`POST /hooks`).
        """
        key = _trigger(key)
        if args["format"] == "make":
            return field_definitions.make_parameters(key, args["lang"])
        return field_definitions.zapier_input_fields(key, args["lang"])


@blp.route("/<key>/samples")
class TriggerSamples(MethodView):
    @blp.arguments(SamplesArgs, location="query")
    @blp.response(200, PayloadSchema(many=True))
    @blp.alt_response(404, description="Unknown trigger")
    def get(self, args, key):
        """Sample payloads, newest first

        The account's latest real payloads for the trigger; canned samples when
        there are none yet. Zapier's `performList`, Make's samples.
        """
        key = _trigger(key)
        limit = min(args["limit"], current_app.config["SAMPLES_MAX"])
        return samples.samples(db_session(), current_account().id, key, limit)
