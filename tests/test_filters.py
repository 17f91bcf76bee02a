"""Filters: validated when a hook is saved, matched when an event is routed."""

import pytest

from connector import filters

BOOKING = {
    "event": "place",
    "res_name": "Ms. Tanaka",
    "price": "6000.00",
    "status": 35,
    "deleted": False,
    "form": {"content": {"size": "M"}},
    "description": "初めての参加です",
    "tags": ["morning", "beginner"],
}


@pytest.mark.parametrize(
    "condition, expected",
    [
        ({"event": "place"}, True),  # moved off the waiting list
        ({"event": "create"}, False),
        ({"res_name": "Ms. Tanaka"}, True),  # one teacher's classes
        ({"res_name": "Mr. Yamamoto"}, False),
        ({"price": {"gte": 5000}}, True),  # above a price: numeric strings compare as numbers
        ({"price": {"gte": 6000.01}}, False),
        ({"price": {"gt": "999"}}, True),  # "6000.00" > "999" as numbers, not as strings
        ({"status": 35}, True),  # a given payment status
        ({"status": "35"}, True),
        ({"status": [2, 35]}, True),
        ({"status": {"in": [2, 4]}}, False),
        ({"status": {"ne": 35}}, False),
        ({"form.content.size": "M"}, True),
        ({"form.content.colour": {"exists": False}}, True),
        ({"form.content.size": {"exists": True}}, True),
        ({"missing": {"ne": 1}}, True),
        ({"missing": 1}, False),
        ({"description": {"contains": "参加"}}, True),
        ({"tags": {"contains": "beginner"}}, True),
        ({"deleted": False}, True),
        ({"deleted": 0}, False),  # booleans are not numbers
        ({"event": "place", "price": {"lt": 5000}}, False),  # every condition must hold
        ({"price": {"gte": 5000, "lte": 7000}}, True),
        ({"res_name": {"gt": 1}}, False),  # a word is not compared with a number
        ({}, True),
    ],
)
def test_matching(condition, expected):
    assert filters.validate(condition) == {}
    assert filters.matches(condition, BOOKING) is expected


@pytest.mark.parametrize(
    "condition, where, words",
    [
        ({"price": {"between": [1, 2]}}, "filters.price.between", "unknown operator 'between'"),
        ({"a..b": 1}, "filters.a..b", "malformed path"),
        ({".a": 1}, "filters..a", "malformed path"),
        ({"a b": 1}, "filters.a b", "malformed path"),
        ({"status": {"in": 3}}, "filters.status.in", "non-empty list"),
        ({"status": []}, "filters.status", "non-empty list"),
        ({"status": [{"x": 1}]}, "filters.status", "only strings"),
        ({"deleted": {"exists": "yes"}}, "filters.deleted.exists", "true or false"),
        ({"price": {"gt": [1]}}, "filters.price.gt", "number or a string"),
        ({"price": {}}, "filters.price", "at least one"),
    ],
)
def test_validation_names_the_problem(condition, where, words):
    errors = filters.validate(condition)
    assert words in errors[where]


def test_not_an_object():
    assert "JSON object" in filters.validate(["event"])["filters"]


def test_condition_limit():
    assert "at most 3" in filters.validate({f"f{i}": i for i in range(4)}, max_conditions=3)["filters"]


def test_inputs_become_filters():
    made, errors = filters.from_inputs(
        "changed_appointment",
        {"event": ["place"], "res_name": "Ms. Tanaka", "min_price": "5000", "status": ["35", 2], "role": ""},
    )
    assert errors == {}
    assert made == {"event": {"in": ["place"]}, "res_name": "Ms. Tanaka", "price": {"gte": 5000}, "status": {"in": [35, 2]}}


@pytest.mark.parametrize(
    "trigger, inputs, where, words",
    [
        ("purchase", {"res_name": "x"}, "filter_inputs.res_name", "not a filter of purchase"),
        ("changed_appointment", {"event": ["cancel"]}, "filter_inputs.event", "unknown event 'cancel'"),
        ("changed_appointment", {"status": ["abc"]}, "filter_inputs.status", "integer"),
        ("changed_appointment", {"min_price": ["1", "2"]}, "filter_inputs.min_price", "single value"),
    ],
)
def test_bad_inputs(trigger, inputs, where, words):
    _, errors = filters.from_inputs(trigger, inputs)
    assert words in errors[where]
