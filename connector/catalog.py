"""The trigger catalog as data: objects, triggers, events, roles, statuses and fields.

This module is the single source: validation, routing, field definitions,
filter inputs, sample checks and the docs all read it. English and Japanese
wording follows the platform's help page (shared/seed/webhooks-ja.txt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Label:
    en: str
    ja: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "ja": self.ja}


@dataclass(frozen=True)
class Field:
    """One field of a pushed object. `type` is the catalog's own type name (see TYPES)."""

    key: str
    type: str
    label: Label
    children: tuple[Field, ...] = ()


@dataclass(frozen=True)
class FilterInput:
    """A filter a subscriber can set at subscribe time, and the condition it becomes."""

    key: str
    path: str
    operator: str  # "in" takes a list of choices, others take one value
    type: str
    label: Label
    help: Label
    choices: str | None = None  # "event", "role" or "status": taken from the catalog


@dataclass(frozen=True)
class Trigger:
    key: str
    object: str
    events: tuple[str, ...]
    name: Label
    fires_when: Label
    filters: tuple[str, ...] = ()  # keys of FILTER_INPUTS this trigger offers


def _f(key: str, type_: str, en: str, ja: str, *children: Field) -> Field:
    return Field(key, type_, Label(en, ja), tuple(children))


# Catalog type → JSON Schema types (every object field may be null: the platform sends null for blanks).
TYPES: dict[str, tuple[str, ...]] = {
    "integer": ("integer",),
    "number": ("number",),
    "decimal": ("number", "string"),  # prices arrive as "6000.00"
    "string": ("string",),
    "text": ("string",),
    "email": ("string",),
    "datetime": ("string",),
    "boolean": ("boolean",),
    "object": ("object",),
    "array": ("array",),
}

EVENT_LABELS: dict[str, Label] = {
    "new": Label("New", "新規"),
    "change": Label("Changed", "変更"),
    "delete": Label("Deleted", "削除"),
    "create": Label("Created", "新規登録"),
    "edit": Label("Edited", "編集"),
    "place": Label("Moved off the waiting list", "キャンセル待ちから正規予約へ移動"),
    "pending": Label("Pending", "保留"),
    "destroy": Label("Deleted", "削除"),
    "restore": Label("Restored", "復元"),
    "approve": Label("Approved", "承認"),
    "revert": Label("Approval reverted", "承認の取り消し"),
    "sent": Label("Sent", "配信"),
    "reminder": Label("Reminder", "リマインダー"),
    "follow_up": Label("Follow-up", "フォローアップ"),
    "purchase": Label("Purchase", "購入"),
}

ROLES: dict[int, Label] = {
    0: Label("Anonymous, not logged in", "未ログイン(匿名)"),
    1: Label("Logged in with the shared password", "共通パスワードによりログイン"),
    2: Label("Let in by the IP-range check", "IP range checkにより有効"),
    3: Label("Ordinary user", "通常ユーザー"),
    4: Label("Superuser", "スーパーユーザー"),
    5: Label("Administrator or reseller", "管理者又は再販業者"),
    7: Label("The system or a payment gateway", "システム又はPayment gateway"),
}

# A user object's own role travels as `user_role`; -1 is a blocked user.
USER_ROLES: dict[int, Label] = {
    -1: Label("Blocked", "ブロック中"),
    3: Label("Ordinary user", "通常ユーザー"),
    4: Label("Superuser", "スーパーユーザー"),
}

STATUSES: dict[int, Label] = {
    2: Label("Pending approval", "承認待ち"),
    4: Label("Payment authorization pending", "支払い承認待ち"),
    6: Label("Payment in progress", "支払い処理中"),
    10: Label("Pay later", "後払い"),
    11: Label("Unknown status code received", "不明なステータスコードを受信"),
    21: Label("Payment pending at payment provider", "決済代行会社で支払い保留中"),
    31: Label("Payment received but fraud check failed", "支払い受領済み、不正チェックで不合格"),
    35: Label("Payment received but reverted by administrator", "支払い受領後、管理者により返金"),
    40: Label("Cancelled due to time out", "タイムアウトによりキャンセル"),
    42: Label("User cancelled", "ユーザーによりキャンセル"),
    44: Label("Administrator cancelled", "管理者によりキャンセル"),
    46: Label("Payment was cancelled", "支払いがキャンセルされました"),
}
UNKNOWN_STATUS = Label("Unknown", "不明")

_APPOINTMENT = (
    _f("id", "integer", "Booking ID", "予約ID"),
    _f("schedule_id", "integer", "Schedule ID", "スケジュールID"),
    _f("schedule_name", "string", "Schedule name", "スケジュール名"),
    _f("start", "datetime", "Start", "開始日時"),
    _f("finish", "datetime", "Finish", "終了日時"),
    _f("resource_id", "integer", "Resource ID", "リソースID"),
    _f("res_name", "string", "Resource name", "リソース名"),
    _f("service_id", "integer", "Service ID", "サービスID"),
    _f("service_name", "string", "Service name", "サービス名"),
    _f("slot_id", "integer", "Slot ID", "枠ID"),
    _f("user_id", "integer", "User ID", "ユーザーID"),
    _f("created_by", "string", "Created by", "登録者"),
    _f("created_on", "datetime", "Created on", "登録日時"),
    _f("updated_by", "string", "Updated by", "更新者"),
    _f("updated_on", "datetime", "Updated on", "更新日時"),
    _f("deleted", "boolean", "Deleted", "削除済み"),
    _f("waitlisted", "boolean", "On the waiting list", "キャンセル待ち"),
    _f("status", "integer", "Payment status", "ステータス"),
    _f("status_message", "string", "Status message", "ステータスメッセージ"),
    _f("price", "decimal", "Price", "価格"),
    _f("quantity", "integer", "Quantity", "数量"),
    _f("full_name", "string", "Full name", "氏名"),
    _f("email", "email", "E-mail", "メールアドレス"),
    _f("address", "string", "Address", "住所"),
    _f("mobile", "string", "Mobile", "携帯電話"),
    _f("phone", "string", "Phone", "電話番号"),
    _f("country", "string", "Country", "国"),
    _f("description", "text", "Description", "備考"),
    _f(
        "form",
        "object",
        "Attached form",
        "予約フォーム",
        _f("id", "integer", "Form ID", "フォームID"),
        _f("super_form_id", "integer", "Form template ID", "フォームテンプレートID"),
        _f("content", "object", "Form content", "フォーム内容"),
    ),
    _f(
        "slot",
        "object",
        "Slot",
        "枠",
        _f("id", "integer", "Slot ID", "枠ID"),
        _f("title", "string", "Slot title", "枠のタイトル"),
        _f("start", "datetime", "Slot start", "枠の開始日時"),
        _f("finish", "datetime", "Slot finish", "枠の終了日時"),
    ),
)

OBJECT_FIELDS: dict[str, tuple[Field, ...]] = {
    "appointment": _APPOINTMENT,
    "reminder": _APPOINTMENT,
    "user": (
        _f("id", "integer", "User ID", "ユーザーID"),
        _f("fk", "string", "Foreign key", "外部キー"),
        _f("name", "string", "Login name", "ログイン名"),
        _f("email", "email", "E-mail", "メールアドレス"),
        _f("full_name", "string", "Full name", "氏名"),
        _f("address", "string", "Address", "住所"),
        _f("mobile", "string", "Mobile", "携帯電話"),
        _f("phone", "string", "Phone", "電話番号"),
        _f("country", "string", "Country", "国"),
        _f("timezone", "string", "Time zone", "タイムゾーン"),
        _f("credit", "decimal", "Credit", "クレジット"),
        _f("user_role", "integer", "User's own role", "ユーザー権限"),
        _f("group", "integer", "Group", "グループ"),
        _f("created_on", "datetime", "Created on", "登録日時"),
        _f("updated_on", "datetime", "Updated on", "更新日時"),
    ),
    "form": (
        _f("id", "integer", "Form ID", "フォームID"),
        _f("super_form_id", "integer", "Form template ID", "フォームテンプレートID"),
        _f("reservation_process_id", "integer", "Booking ID", "予約ID"),
        _f("user_id", "integer", "User ID", "ユーザーID"),
        _f("content", "object", "Form content", "フォーム内容"),
        _f("created_on", "datetime", "Created on", "登録日時"),
        _f("updated_on", "datetime", "Updated on", "更新日時"),
        _f("deleted", "boolean", "Deleted", "削除済み"),
    ),
    "email": (
        _f("to", "string", "To", "宛先"),
        _f("from", "string", "From", "差出人"),
        _f("cc", "string", "Cc", "Cc"),
        _f("bcc", "string", "Bcc", "Bcc"),
        _f("reply_to", "string", "Reply-to", "返信先"),
        _f("subject", "string", "Subject", "件名"),
        _f("body", "text", "Body", "本文"),
        _f("body_html", "text", "HTML body", "HTML本文"),
    ),
    "purchase": (
        _f("id", "integer", "Purchase ID", "購入ID"),
        _f("user_id", "integer", "User ID", "ユーザーID"),
        _f("product", "string", "Product", "商品"),
        _f("quantity", "integer", "Quantity", "数量"),
        _f("price", "decimal", "Price", "価格"),
        _f("currency", "string", "Currency", "通貨"),
        _f("created_on", "datetime", "Created on", "購入日時"),
    ),
}

# Every payload carries these besides the object's own fields (DESIGN.md §3).
ENVELOPE: tuple[Field, ...] = (
    _f("trigger", "string", "Trigger", "トリガー"),
    _f("event", "string", "Event", "イベント"),
    _f("role", "integer", "Triggered by (role)", "操作者の権限(role)"),
    _f("event_id", "string", "Event ID", "イベントID"),
    _f("occurred_at", "datetime", "Occurred at", "発生日時"),
)

FILTER_INPUTS: dict[str, FilterInput] = {
    f.key: f
    for f in (
        FilterInput(
            "event",
            "event",
            "in",
            "string",
            Label("Events", "イベント"),
            Label("Only these event values; leave empty for all.", "指定したイベントのみ。空欄ならすべて。"),
            choices="event",
        ),
        FilterInput(
            "role",
            "role",
            "in",
            "integer",
            Label("Triggered by", "操作者の権限"),
            Label("Only events caused by these roles.", "指定した権限による操作のみ。"),
            choices="role",
        ),
        FilterInput(
            "res_name",
            "res_name",
            "eq",
            "string",
            Label("Resource name", "リソース名"),
            Label("Only bookings of this resource, e.g. one teacher's classes.", "特定のリソース(教師など)の予約のみ。"),
        ),
        FilterInput(
            "min_price",
            "price",
            "gte",
            "number",
            Label("Minimum price", "最低価格"),
            Label("Only when the price is at least this amount.", "価格がこの金額以上の場合のみ。"),
        ),
        FilterInput(
            "status",
            "status",
            "in",
            "integer",
            Label("Payment status", "支払いステータス"),
            Label("Only bookings with these payment status codes.", "指定した支払いステータスの予約のみ。"),
            choices="status",
        ),
    )
}

TRIGGERS: dict[str, Trigger] = {
    t.key: t
    for t in (
        Trigger(
            "new_user",
            "user",
            ("new",),
            Label("New user", "新規ユーザー登録"),
            Label("A user registers.", "新規にユーザーが登録された時"),
            ("role",),
        ),
        Trigger(
            "changed_user",
            "user",
            ("new", "change", "delete"),
            Label("Changed user", "ユーザー情報の更新"),
            Label("A user is created, changed or deleted.", "ユーザーの情報が更新された時"),
            ("event", "role"),
        ),
        Trigger(
            "new_appointment",
            "appointment",
            ("create",),
            Label("New appointment", "新規予約登録"),
            Label("A booking is created.", "予約が新規に登録された時"),
            ("role", "res_name", "min_price", "status"),
        ),
        Trigger(
            "changed_appointment",
            "appointment",
            ("create", "edit", "place", "pending", "destroy", "restore", "approve", "revert"),
            Label("Changed appointment", "予約の更新"),
            Label(
                "A booking is created or changes in any way: edited, moved off the waiting list, "
                "pending, deleted, restored, approved, approval reverted, paid.",
                "予約情報が更新された時。更新には新規登録、削除、キャンセル待ちからの移動、支払い完了なども含まれます",
            ),
            ("event", "role", "res_name", "min_price", "status"),
        ),
        Trigger(
            "new_form",
            "form",
            ("new",),
            Label("New form", "単独フォームの発信"),
            Label(
                "A stand-alone form is submitted.",
                "単独で公開されているフォームでデータが送信された時",
            ),
            ("role",),
        ),
        Trigger(
            "changed_form",
            "form",
            ("new", "change", "delete", "restore"),
            Label("Changed form", "単独フォームの更新"),
            Label(
                "A stand-alone form is submitted, changed, deleted or restored.",
                "単独フォームが送信、変更、削除又は復元された時",
            ),
            ("event", "role"),
        ),
        Trigger(
            "email_sent",
            "email",
            ("sent",),
            Label("E-mail sent", "メール配信"),
            Label("The platform sends an e-mail.", "システムよりメールが配信された時"),
        ),
        Trigger(
            "reminder",
            "reminder",
            ("reminder", "follow_up"),
            Label("Reminder / Follow-up", "リマインダー フォローアップ"),
            Label(
                "A reminder or follow-up e-mail goes out.",
                "リマインダーメールやフォローアップメールが配信された時",
            ),
            ("event", "res_name"),
        ),
        Trigger(
            "purchase",
            "purchase",
            ("purchase",),
            Label("Purchase", "購入"),
            Label("A user buys something in the shop.", "ショップでユーザーが商品を購入した時"),
            ("min_price",),
        ),
    )
}

OBJECTS: tuple[str, ...] = tuple(OBJECT_FIELDS)


def events_of(obj: str) -> tuple[str, ...]:
    """Every `event` value the catalog allows for an object, in catalog order."""
    seen: dict[str, None] = {}
    for trigger in TRIGGERS.values():
        if trigger.object == obj:
            seen.update(dict.fromkeys(trigger.events))
    return tuple(seen)


def triggers_for(obj: str, event: str) -> tuple[str, ...]:
    """The triggers an object's event belongs to (a `create` reaches new and changed)."""
    return tuple(t.key for t in TRIGGERS.values() if t.object == obj and event in t.events)


def status_message(code: Any) -> Label | None:
    """The documented label of a payment status; other integers are 'unknown', nothing else is."""
    if isinstance(code, bool) or not isinstance(code, int):
        return None
    return STATUSES.get(code, UNKNOWN_STATUS)


def trigger_fields(trigger_key: str) -> tuple[Field, ...]:
    """The object's fields followed by the envelope, in the order subscribers see them."""
    return OBJECT_FIELDS[TRIGGERS[trigger_key].object] + ENVELOPE


def choices(kind: str, trigger_key: str) -> dict[Any, Label]:
    """The labelled values of `event`, `role` or `status` for one trigger."""
    if kind == "event":
        return {e: EVENT_LABELS[e] for e in TRIGGERS[trigger_key].events}
    if kind == "role":
        return dict(ROLES)
    if kind == "status":
        return dict(STATUSES)
    raise KeyError(kind)


def payload_schema(trigger_key: str) -> dict[str, Any]:
    """JSON Schema of the payload a subscriber receives for a trigger (unknown fields pass through)."""
    trigger = TRIGGERS[trigger_key]
    props: dict[str, Any] = {f.key: _field_schema(f) for f in OBJECT_FIELDS[trigger.object]}
    props.update(
        trigger={"const": trigger.key},
        event={"enum": list(trigger.events)},
        role={"enum": list(ROLES)},
        event_id={"type": "string", "pattern": "^evt_"},
        occurred_at={"type": "string", "format": "date-time"},
    )
    return {
        "type": "object",
        "required": [f.key for f in ENVELOPE],
        "properties": props,
        "additionalProperties": True,
    }


def _field_schema(f: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [*TYPES[f.type], "null"]}
    if f.type == "datetime":
        schema["format"] = "date-time"
    if f.type == "decimal":
        schema["pattern"] = r"^-?\d+(\.\d+)?$"
    if f.children:
        schema["properties"] = {c.key: _field_schema(c) for c in f.children}
    return schema


@dataclass(frozen=True)
class SupersaasCode:
    """One of SuperSaaS's one-letter REST-hook event codes, as the trigger (and event) it stands for."""

    trigger: str
    event: str | None = None  # R and F are the reminder trigger narrowed to one event


# SuperSaaS's hooks API (POST /api/hooks {event, parent_id, target_url}) names triggers by these letters.
SUPERSAAS_CODES: dict[str, SupersaasCode] = {
    "N": SupersaasCode("new_appointment"),
    "C": SupersaasCode("changed_appointment"),
    "U": SupersaasCode("new_user"),
    "M": SupersaasCode("changed_user"),
    "S": SupersaasCode("new_form"),
    "O": SupersaasCode("changed_form"),
    "R": SupersaasCode("reminder", "reminder"),
    "F": SupersaasCode("reminder", "follow_up"),
    "H": SupersaasCode("email_sent"),
    "P": SupersaasCode("purchase"),
}
