"""The ingest hot path's hand check gives what the schema gives, or leaves the body to the schema."""

import marshmallow as ma
import pytest

from connector.api.events.schemas import EventInSchema, load_plain, load_plain_many

VALID = {"object": "appointment", "event": "create", "role": 3, "data": {"id": 1, "名前": "田中"}}

BODIES = [
    VALID,
    {**VALID, "occurred_at": None},
    {**VALID, "occurred_at": "2026-11-29T09:00:00+09:00"},  # a time to parse: left to the schema
    {**VALID, "event": "purchase"},  # not an event of appointments
    {**VALID, "object": "booking"},
    {**VALID, "role": True},
    {**VALID, "role": 99},
    {**VALID, "role": "3"},
    {**VALID, "data": []},
    {**VALID, "extra": 1},
    {k: v for k, v in VALID.items() if k != "data"},
    {"object": "purchase", "event": "purchase", "role": 3, "data": {}},
    [],
    None,
    "text",
]


@pytest.mark.parametrize("body", BODIES)
def test_hand_check_agrees_with_the_schema(body):
    fast = load_plain(body)
    try:
        loaded = EventInSchema().load(body)
    except ma.ValidationError:
        assert fast is None
    else:
        assert fast is None or fast == loaded


def test_a_plain_valid_event_takes_the_hand_check():
    assert load_plain(VALID) == EventInSchema().load(VALID)


def test_a_batch_takes_it_only_when_every_event_does():
    assert load_plain_many([VALID, VALID]) == EventInSchema(many=True).load([VALID, VALID])
    assert load_plain_many([VALID, {**VALID, "role": 99}]) is None
    assert load_plain_many(VALID) is None
