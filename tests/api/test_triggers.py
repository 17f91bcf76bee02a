"""The catalog for subscribers: triggers, Zapier and Make field definitions, filter inputs, samples."""

from datetime import UTC, datetime

import pytest

from connector import catalog
from connector.ids import new_id
from connector.models import Event, EventTrigger


def get(client, tenant, path):
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_catalog_lists_triggers_roles_and_statuses(client, tenant):
    body = get(client, tenant, "/api/v1/triggers")
    assert [t["key"] for t in body["triggers"]] == list(catalog.TRIGGERS)
    changed = body["triggers"][3]
    assert changed["name"] == {"en": "Changed appointment", "ja": "予約の更新"}
    assert {"value": "place", "label": {"en": "Moved off the waiting list", "ja": "キャンセル待ちから正規予約へ移動"}} in changed[
        "events"
    ]
    assert [r["value"] for r in body["roles"]] == [0, 1, 2, 3, 4, 5, 7]
    assert {
        "value": 35,
        "label": {"en": "Payment received but reverted by administrator", "ja": "支払い受領後、管理者により返金"},
    } in body["statuses"]


def test_one_trigger_with_fields_and_payload_schema(client, tenant):
    body = get(client, tenant, "/api/v1/triggers/new_user")
    assert body["events"] == [{"value": "new", "label": {"en": "New", "ja": "新規"}}]
    assert {"key": "user_role", "type": "integer", "label": {"en": "User's own role", "ja": "ユーザー権限"}} in body["fields"]
    assert body["payload_schema"]["properties"]["trigger"] == {"const": "new_user"}


@pytest.mark.parametrize("trigger", list(catalog.TRIGGERS))
def test_zapier_output_fields_validate_against_zapiers_schema(client, tenant, trigger, zapier_schema):
    fields = get(client, tenant, f"/api/v1/triggers/{trigger}/fields?format=zapier")
    validator = zapier_schema("/OutputFieldsSchema")
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(fields)]
    assert not errors
    keys = [f["key"] for f in fields]
    assert len(keys) == len(set(keys))
    assert [f["key"] for f in fields if f.get("primary")] == ["event_id"]
    assert {"trigger", "event", "role", "event_id", "occurred_at"} <= set(keys)
    assert all("choices" not in f for f in fields)


def test_zapier_fields_carry_samples_and_flatten_nested_objects(client, tenant):
    fields = {f["key"]: f for f in get(client, tenant, "/api/v1/triggers/changed_appointment/fields")}
    assert fields["res_name"] == {"key": "res_name", "label": "Resource name", "type": "string", "sample": "Mr. Yamamoto"}
    assert fields["slot__title"]["sample"] == "夜ヨガ(初心者)"
    assert fields["start"]["type"] == "datetime" and fields["price"]["type"] == "number"
    ja = {f["key"]: f for f in get(client, tenant, "/api/v1/triggers/changed_appointment/fields?lang=ja")}
    assert ja["res_name"]["label"] == "リソース名"


def test_make_interface_with_options(client, tenant):
    entries = {e["name"]: e for e in get(client, tenant, "/api/v1/triggers/changed_appointment/fields?format=make")}
    assert all({"name", "label", "type"} <= set(e) for e in entries.values())
    assert [o["value"] for o in entries["event"]["options"]] == list(catalog.TRIGGERS["changed_appointment"].events)
    assert [o["value"] for o in entries["role"]["options"]] == [0, 1, 2, 3, 4, 5, 7]
    assert {"label": "Pay later", "value": 10} in entries["status"]["options"]
    assert entries["form"]["type"] == "collection" and entries["form"]["spec"][0]["name"] == "id"
    assert entries["start"]["type"] == "date"


def test_zapier_filter_inputs(client, tenant, zapier_schema):
    fields = get(client, tenant, "/api/v1/triggers/changed_appointment/filters?format=zapier")
    assert not list(zapier_schema("/InputFieldsSchema").iter_errors(fields))
    by_key = {f["key"]: f for f in fields}
    assert set(by_key) == {"event", "role", "res_name", "min_price", "status"}
    assert by_key["event"]["list"] is True
    assert {"value": "place", "sample": "place", "label": "place: Moved off the waiting list"} in by_key["event"]["choices"]
    assert by_key["min_price"]["type"] == "number" and by_key["min_price"]["helpText"]
    assert get(client, tenant, "/api/v1/triggers/email_sent/filters") == []


def test_make_filter_parameters(client, tenant):
    params = {p["name"]: p for p in get(client, tenant, "/api/v1/triggers/changed_appointment/filters?format=make&lang=ja")}
    assert params["status"]["type"] == "select" and params["status"]["multiple"] is True
    assert {"label": "後払い", "value": 10} in params["status"]["options"]
    assert params["min_price"]["type"] == "number" and params["res_name"]["type"] == "text"


def test_samples_are_canned_until_real_events_exist(app, client, tenant, other_tenant):
    canned = get(client, tenant, "/api/v1/triggers/changed_appointment/samples")
    assert [s["event"] for s in canned] == ["place", "create", "revert"]
    assert len(get(client, tenant, "/api/v1/triggers/changed_appointment/samples?limit=1")) == 1

    with app.extensions["connector.db"].session() as session:
        for n, account in enumerate((tenant, tenant, other_tenant)):
            event = Event(
                id=new_id("evt"),
                account_id=account.id,
                object="appointment",
                event="edit",
                role=3,
                occurred_at=datetime(2026, 11, 29, 1, n, tzinfo=UTC),
                received_at=datetime(2026, 11, 29, 1, n, tzinfo=UTC),
                data={"id": 100 + n, "res_name": "Ms. Tanaka", "status": 35, "role": 4},
            )
            event.triggers.append(EventTrigger(trigger="changed_appointment", account_id=account.id))
            session.add(event)
        session.commit()

    real = get(client, tenant, "/api/v1/triggers/changed_appointment/samples?limit=10")
    assert [s["id"] for s in real] == [101, 100]  # newest first, never another account's
    assert real[0]["trigger"] == "changed_appointment" and real[0]["event"] == "edit"
    assert real[0]["status_message"] == "Payment received but reverted by administrator"
    assert real[0]["role"] == 3 and real[0]["user_role"] == 4
    assert real[0]["occurred_at"] == "2026-11-29T01:01:00Z"
    assert get(client, tenant, "/api/v1/triggers/new_appointment/samples")[0]["event"] == "create"  # still canned


def test_answers_keep_key_order_and_japanese_as_utf8(client, tenant):
    response = client.get("/api/v1/triggers/changed_appointment/samples?limit=1", headers=tenant.headers)
    text = response.get_data(as_text=True)
    assert "大阪府" in text and "\\u" not in text
    assert list(response.json[0])[:3] == ["id", "schedule_id", "schedule_name"]
