"""The catalog holds the seed's facts and is the one source of routing and schemas."""

from connector import catalog


def test_nine_triggers_with_the_seeds_event_values():
    assert {k: t.events for k, t in catalog.TRIGGERS.items()} == {
        "new_user": ("new",),
        "changed_user": ("new", "change", "delete"),
        "new_appointment": ("create",),
        "changed_appointment": ("create", "edit", "place", "pending", "destroy", "restore", "approve", "revert"),
        "new_form": ("new",),
        "changed_form": ("new", "change", "delete", "restore"),
        "email_sent": ("sent",),
        "reminder": ("reminder", "follow_up"),
        "purchase": ("purchase",),
    }


def test_names_in_english_and_the_seeds_japanese():
    assert catalog.TRIGGERS["changed_appointment"].name.ja == "予約の更新"
    assert catalog.TRIGGERS["new_form"].name.ja == "単独フォームの発信"
    assert catalog.TRIGGERS["reminder"].name.ja == "リマインダー フォローアップ"
    for trigger in catalog.TRIGGERS.values():
        assert trigger.name.en and trigger.name.ja and trigger.fires_when.ja
    assert all(catalog.EVENT_LABELS[e].ja for t in catalog.TRIGGERS.values() for e in t.events)


def test_roles_and_statuses():
    assert sorted(catalog.ROLES) == [0, 1, 2, 3, 4, 5, 7]
    assert catalog.ROLES[1].ja == "共通パスワードによりログイン"
    assert sorted(catalog.STATUSES) == [2, 4, 6, 10, 11, 21, 31, 35, 40, 42, 44, 46]
    assert catalog.status_message(35).en == "Payment received but reverted by administrator"
    assert catalog.status_message(99) is catalog.UNKNOWN_STATUS
    assert catalog.status_message("35") is None and catalog.status_message(True) is None


def test_routing_a_create_reaches_new_and_changed():
    assert catalog.triggers_for("appointment", "create") == ("new_appointment", "changed_appointment")
    assert catalog.triggers_for("appointment", "place") == ("changed_appointment",)
    assert catalog.triggers_for("user", "new") == ("new_user", "changed_user")
    assert catalog.triggers_for("form", "restore") == ("changed_form",)
    assert catalog.triggers_for("reminder", "follow_up") == ("reminder",)
    assert catalog.triggers_for("user", "create") == ()


def test_events_of_each_object():
    assert catalog.events_of("user") == ("new", "change", "delete")
    assert catalog.events_of("email") == ("sent",)
    assert set(catalog.OBJECTS) == {"user", "appointment", "form", "email", "reminder", "purchase"}


def test_every_trigger_offers_only_known_filter_inputs():
    for trigger in catalog.TRIGGERS.values():
        assert set(trigger.filters) <= set(catalog.FILTER_INPUTS)
    assert "event" in catalog.TRIGGERS["changed_appointment"].filters
    assert "event" not in catalog.TRIGGERS["new_appointment"].filters  # one value: nothing to choose


def test_payload_schema_requires_the_envelope():
    schema = catalog.payload_schema("purchase")
    assert schema["required"] == ["trigger", "event", "role", "event_id", "occurred_at"]
    assert schema["properties"]["event"] == {"enum": ["purchase"]}
    assert schema["additionalProperties"] is True
