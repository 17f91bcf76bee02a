"""The dashboard in English and Japanese: English is the key, Japanese the translation.

The language is the visitor's choice (the switch in the header, kept in the session),
else the best match of the browser's Accept-Language, else English. A test checks that
every `_("…")` in the templates and views has a Japanese entry here.
"""

from __future__ import annotations

from typing import Any

from flask import request, session

LANGUAGES = {"en": "English", "ja": "日本語"}

JA: dict[str, str] = {
    # layout and sign-in
    "Connector dashboard": "コネクター管理画面",
    "Hooks": "フック",
    "Events": "イベント",
    "Deliveries": "配信",
    "Reminder rules": "リマインダールール",
    "Sign in": "サインイン",
    "Sign out": "サインアウト",
    "Signed in as {name}": "{name} としてサインイン中",
    "API key": "APIキー",
    "Sign in with one of your account's API keys.": "アカウントのAPIキーでサインインしてください。",
    "That API key is not valid.": "このAPIキーは無効です。",
    "Your session ended. Please sign in again.": "セッションが終了しました。もう一度サインインしてください。",
    "Language": "言語",
    "The form expired. Please try again.": "フォームの有効期限が切れました。もう一度お試しください。",
    "Not found": "見つかりません",
    "Back": "戻る",
    # hooks
    "Trigger": "トリガー",
    "Target URL": "送信先URL",
    "Filters": "フィルター",
    "Status": "状態",
    "Success rate (24 h)": "成功率（24時間）",
    "Last error (24 h)": "直近のエラー（24時間）",
    "Deliveries (24 h)": "配信数（24時間）",
    "No hooks yet. Subscribe one through the API (POST /api/v1/hooks).": (
        "フックはまだありません。API（POST /api/v1/hooks）で登録してください。"
    ),
    "none": "なし",
    "active": "有効",
    "paused": "一時停止",
    "disabled": "無効",
    "Pause": "一時停止する",
    "Resume": "再開する",
    "Send a test event": "テストイベントを送信",
    "Rotate secret": "シークレットを更新",
    "Save filters": "フィルターを保存",
    "Recover failures since": "この日時以降の失敗を再配信",
    "Recover": "再配信",
    "Hook {id} paused.": "フック {id} を一時停止しました。",
    "Hook {id} resumed.": "フック {id} を再開しました。",
    "Filters of {id} saved.": "{id} のフィルターを保存しました。",
    "Filters must be a JSON object.": "フィルターはJSONオブジェクトで指定してください。",
    "Test sent: {result}.": "テストを送信しました：{result}。",
    "{n} deliveries requeued.": "{n} 件の配信を再キューしました。",
    "Give a time to recover from.": "再配信の開始日時を指定してください。",
    "New signing secret": "新しい署名シークレット",
    "Copy it now: it is shown this once. The previous secret keeps signing until {until}.": (
        "今すぐコピーしてください（表示は一度だけです）。以前のシークレットは {until} まで署名に使われます。"
    ),
    "Disabled because: {reason}": "無効化の理由：{reason}",
    "Created": "作成日時",
    "Deliveries of this hook": "このフックの配信",
    "Every condition must hold. Example:": "すべての条件を満たす必要があります。例：",
    # events
    "All triggers": "すべてのトリガー",
    "Event": "イベント",
    "Any event": "すべてのイベント",
    "Filter": "絞り込む",
    "Object": "オブジェクト",
    "Role": "ロール",
    "Occurred": "発生日時",
    "Received": "受信日時",
    "Older": "さらに古い",
    "No events.": "イベントはありません。",
    # deliveries
    "Deliveries per minute, last hour": "1分ごとの配信数（直近1時間）",
    "Failed deliveries are listed first.": "失敗した配信を先頭に表示しています。",
    "Any status": "すべての状態",
    "Hook": "フック",
    "Attempts": "試行",
    "Last answer": "最後の応答",
    "Retry": "再試行",
    "Next page": "次のページ",
    "No deliveries.": "配信はありません。",
    "succeeded": "成功",
    "pending": "配信待ち",
    "failed": "失敗",
    "cancelled": "取り消し",
    "retry": "再試行予定",
    "gone": "購読終了",
    "Delivery {id} queued again.": "配信 {id} を再度キューに入れました。",
    "Started": "開始",
    "Duration": "所要時間",
    "Status code": "ステータスコード",
    "Error": "エラー",
    "Response": "応答",
    "Outcome": "結果",
    "Payload": "ペイロード",
    "No attempts yet.": "まだ試行していません。",
    "{n} ms": "{n} ミリ秒",
    "{minutes} min ago": "{minutes} 分前",
    "now": "現在",
    # reminder rules
    "No reminder rules.": "リマインダールールはありません。",
    "Reminder rules appear here once the reminders feature is installed.": (
        "リマインダー機能が導入されると、ここにルールが表示されます。"
    ),
}

CATALOG = {"ja": JA}


def language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default="en")


def gettext(text: str, **values: Any) -> str:
    """`text` in the request's language, with {placeholders} filled."""
    translated = CATALOG.get(language(), {}).get(text, text)
    return translated.format(**values) if values else translated
