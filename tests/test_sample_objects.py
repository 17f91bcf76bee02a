"""Canned samples have the shape live payloads have: each is checked against its trigger's schema."""

import json
import os

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from connector import catalog
from connector.services.samples import SAMPLE_DIR, canned


def test_one_file_per_trigger_and_nothing_else():
    assert sorted(os.listdir(SAMPLE_DIR)) == sorted(f"{k}.json" for k in catalog.TRIGGERS)


@pytest.mark.parametrize("trigger", list(catalog.TRIGGERS))
def test_samples_match_the_catalog_schema(trigger):
    validator = Draft202012Validator(catalog.payload_schema(trigger), format_checker=FormatChecker())
    samples = canned(trigger)
    assert samples, f"{trigger}.json is empty"
    for sample in samples:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(sample)]
        assert not errors, f"{trigger}: {errors}"
        assert sample["trigger"] == trigger
        known = {f.key for f in catalog.trigger_fields(trigger)}
        custom = set(sample) - known
        assert custom <= {"field_1", "super_field"}, f"{trigger}: fields outside the catalog: {custom}"


def test_samples_are_realistic():
    booking = canned("changed_appointment")
    events = {s["event"] for s in booking}
    assert "place" in events, "a booking moved off the waiting list"
    paid = [s for s in booking if s["status"] is not None]
    assert all(s["status_message"] == catalog.STATUSES[s["status"]].en for s in paid)
    assert any(s.get("field_1") for s in booking), "custom fields pass through"
    text = json.dumps([canned(k) for k in catalog.TRIGGERS], ensure_ascii=False)
    assert "佐藤 花子" in text and "予約" in text


def test_samples_are_newest_first():
    for trigger in catalog.TRIGGERS:
        times = [s["occurred_at"] for s in canned(trigger)]
        assert times == sorted(times, reverse=True), trigger
