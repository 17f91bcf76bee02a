"""Schemas of /reminder-rules and /reminders."""

import marshmallow as ma

from ... import reminders
from ..hooks.schemas import FILTERS_HELP

STATUSES = ["pending", "fired", "skipped", "cancelled"]


class RuleSchema(ma.Schema):
    event = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(reminders.KINDS),
        metadata={"description": "reminder: before the booking's start; follow_up: after its finish."},
    )
    offset_minutes = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=0, max=reminders.MAX_OFFSET_MINUTES),
        metadata={"description": "How long before the start (reminder) or after the finish (follow_up), e.g. 1440 = 24 h."},
    )
    filters = ma.fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={
            "description": 'Only bookings that match, e.g. {"schedule_id": 3412} or {"res_name": "Ms. Tanaka"}. ' + FILTERS_HELP
        },
    )


class RuleSetInSchema(ma.Schema):
    timezone = ma.fields.String(
        load_default=reminders.DEFAULT_TIMEZONE,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "IANA zone of booking times sent without an offset, e.g. Asia/Tokyo. Default UTC."},
    )
    rules = ma.fields.List(
        ma.fields.Nested(RuleSchema),
        required=True,
        validate=ma.validate.Length(max=reminders.MAX_RULES),
        metadata={"description": "Replaces all rules; an empty list cancels every pending reminder."},
    )


class RuleSetSchema(RuleSetInSchema):
    updated_at = ma.fields.DateTime(allow_none=True, required=True)


class ReminderListArgs(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    booking_id = ma.fields.String()


class ReminderSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    booking_id = ma.fields.String(required=True)
    event = ma.fields.String(required=True, metadata={"enum": list(reminders.KINDS)})
    offset_minutes = ma.fields.Integer(required=True)
    due_at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    created_at = ma.fields.DateTime(required=True)
    finished_at = ma.fields.DateTime(allow_none=True, required=True)
    event_id = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "The published reminder event, once fired."}
    )
