"""The dashboard through the test client: sign-in, CSRF, what an account sees and what it can do."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from connector.models import Attempt, Delivery
from connector.services import accounts, utcnow

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path="/dashboard/login") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, key):
    token = csrf(client)
    return client.post("/dashboard/login", data={"key": key, "csrf_token": token})


def post(client, path, data=None, page="/dashboard/deliveries"):
    return client.post(path, data={"csrf_token": csrf(client, page), "next": page, **(data or {})})


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def signed_in(client, tenant):
    assert sign_in(client, tenant.key).status_code == 303
    return client


def make_hook(client, tenant, url="https://example.com/h", trigger="purchase", **extra):
    body = {"target_url": url, "trigger": trigger, **extra}
    return client.post("/api/v1/hooks", json=body, headers=tenant.headers).json


def publish(client, tenant, n=1, obj="purchase", event="purchase"):
    return [
        client.post(
            "/api/v1/events", json={"object": obj, "event": event, "role": 3, "data": {"id": i}}, headers=tenant.headers
        ).json
        for i in range(n)
    ]


def record_attempt(app, delivery_id, status, outcome, code=None, error=None, excerpt=b""):
    """A delivery's attempt and its new state, as the dispatcher would have written them."""
    now = utcnow()
    with app.extensions["connector.db"].engine.begin() as conn:
        conn.execute(
            Attempt.__table__.insert().values(
                delivery_id=delivery_id,
                started_at=now,
                duration_ms=37,
                status_code=code,
                error=error,
                response_excerpt=excerpt,
                outcome=outcome,
            )
        )
        conn.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status=status, attempts=Delivery.attempts + 1, last_status_code=code, last_error=error, last_attempt_at=now)
        )


# ----- sign-in and its protections -----


def test_pages_want_a_signed_in_session(client):
    response = client.get("/dashboard/hooks")
    assert response.status_code == 302 and response.location.startswith("/dashboard/login?next=/dashboard/hooks")
    assert client.get("/dashboard/").status_code == 302


def test_sign_in_with_an_api_key_sets_a_safe_cookie(client, tenant):
    page = client.get("/dashboard/login")
    assert page.status_code == 200 and 'type="password"' in text(page)
    response = sign_in(client, tenant.key)
    assert response.status_code == 303 and response.location == "/dashboard/deliveries"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert tenant.key not in cookie
    deliveries = client.get("/dashboard/deliveries")
    assert deliveries.status_code == 200 and "yoga-shibuya" in text(deliveries)
    assert (
        deliveries.headers["Cache-Control"] == "no-store"
        and "frame-ancestors 'none'" in deliveries.headers["Content-Security-Policy"]
    )


def test_a_wrong_key_is_refused(client, tenant):
    for key in ("ck_nope", tenant.key + "x", ""):
        response = sign_in(client, key)
        assert response.status_code == 401 and "That API key is not valid." in text(response)
    assert client.get("/dashboard/hooks").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_and_only_inside_the_dashboard(client, tenant):
    token = csrf(client)
    response = client.post("/dashboard/login", data={"key": tenant.key, "csrf_token": token, "next": "/dashboard/hooks"})
    assert response.location == "/dashboard/hooks"
    client.post("/dashboard/logout", data={"csrf_token": csrf(client, "/dashboard/hooks")})
    token = csrf(client)
    response = client.post("/dashboard/login", data={"key": tenant.key, "csrf_token": token, "next": "https://evil.example/"})
    assert response.location == "/dashboard/deliveries"


def test_every_form_wants_the_csrf_token(app, client, tenant):
    assert client.post("/dashboard/login", data={"key": tenant.key}).status_code == 400
    assert client.post("/dashboard/login", data={"key": tenant.key, "csrf_token": "forged"}).status_code == 400
    sign_in(client, tenant.key)
    hook = make_hook(client, tenant)
    refused = client.post(f"/dashboard/hooks/{hook['id']}/pause", data={"csrf_token": "forged"})
    assert refused.status_code == 400 and "The form expired" in text(refused)
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["status"] == "active"
    assert client.post("/dashboard/logout").status_code == 400


def test_the_api_takes_no_cookie_and_wants_no_csrf_token(client, tenant):
    sign_in(client, tenant.key)  # the browser's cookie does not sign API calls in
    assert client.get("/api/v1/hooks").status_code == 401
    created = client.post(
        "/api/v1/hooks", json={"target_url": "https://example.com/x", "trigger": "purchase"}, headers=tenant.headers
    )
    assert created.status_code == 201 and "Set-Cookie" not in created.headers


def test_sign_out_and_a_revoked_key_end_the_session(app, client, tenant):
    sign_in(client, tenant.key)
    assert client.post("/dashboard/logout", data={"csrf_token": csrf(client, "/dashboard/hooks")}).status_code == 303
    assert client.get("/dashboard/hooks").status_code == 302
    sign_in(client, tenant.key)
    with app.extensions["connector.db"].session() as session:
        accounts.revoke_key(session, tenant.name, tenant.key.split("_")[1], utcnow())
    response = client.get("/dashboard/hooks")
    assert response.status_code == 302
    assert "Your session ended" in text(client.get(response.location))


# ----- what an account sees -----


def test_hooks_with_their_last_24_hours(app, signed_in, tenant, other_tenant):
    client = signed_in
    hook = make_hook(client, tenant, filters={"price": {"gte": 5000}})
    make_hook(client, other_tenant, url="https://other.example/theirs")
    publish(client, tenant, 0)
    for i in range(4):
        client.post(
            "/api/v1/events",
            json={"object": "purchase", "event": "purchase", "role": 3, "data": {"id": i, "price": "6000"}},
            headers=tenant.headers,
        )
    ids = [d["id"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json]
    for delivery_id in ids[:3]:
        record_attempt(app, delivery_id, "succeeded", "succeeded", code=200)
    record_attempt(app, ids[3], "pending", "retry", code=503, excerpt=b"busy")
    page = text(client.get("/dashboard/hooks"))
    assert hook["id"] in page and "https://example.com/h" in page and "gte" in page
    assert "75.0 %" in page and "HTTP 503" in page
    assert "other.example" not in page
    one = text(client.get(f"/dashboard/hooks/{hook['id']}"))
    assert "75.0 %" in one and "HTTP 503" in one and "succeeded 3" in one and "pending 1" in one


def test_events_newest_first_filtered_by_trigger_and_event(signed_in, tenant, other_tenant):
    client = signed_in
    make_hook(client, tenant, trigger="changed_appointment")
    place = publish(client, tenant, 1, "appointment", "place")[0]
    create = publish(client, tenant, 1, "appointment", "create")[0]
    user = publish(client, tenant, 1, "user", "new")[0]
    theirs = publish(client, other_tenant, 1, "user", "new")[0]
    page = text(client.get("/dashboard/events"))
    assert page.index(user["id"]) < page.index(create["id"]) < page.index(place["id"])
    assert theirs["id"] not in page
    only_new = text(client.get("/dashboard/events?trigger=new_appointment"))
    assert create["id"] in only_new and place["id"] not in only_new and user["id"] not in only_new
    placed = text(client.get("/dashboard/events?trigger=changed_appointment&event=place"))
    assert place["id"] in placed and create["id"] not in placed
    assert client.get("/dashboard/events?trigger=nope").status_code == 400


def test_deliveries_failed_first_with_every_attempt(app, signed_in, tenant):
    client = signed_in
    make_hook(client, tenant)
    publish(client, tenant, 3)
    newest, middle, oldest = [d["id"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json]
    record_attempt(app, oldest, "pending", "retry", code=500, excerpt=b"<h1>oops</h1>")
    record_attempt(app, oldest, "failed", "failed", error="connection refused")
    record_attempt(app, newest, "succeeded", "succeeded", code=204)
    page = text(client.get("/dashboard/deliveries"))
    assert page.index(oldest) < page.index(middle) < page.index(newest)
    assert "&lt;h1&gt;oops&lt;/h1&gt;" in page and "<h1>oops" not in page  # escaped
    assert "connection refused" in page and "37 ms" in page
    failed_only = text(client.get("/dashboard/deliveries?status=failed"))
    assert oldest in failed_only and newest not in failed_only
    detail = client.get(f"/dashboard/deliveries/{oldest}")
    assert detail.status_code == 200 and "&#34;event&#34;: &#34;purchase&#34;" in text(detail)
    assert client.get("/dashboard/deliveries?status=lost").status_code == 400
    assert client.get("/dashboard/deliveries?page=x").status_code == 200
    for bad in ("page=0", "page=-1", f"page={10**20}"):
        assert client.get(f"/dashboard/deliveries?{bad}").status_code == 400, bad
    assert client.get(f"/dashboard/events?before={10**20}").status_code == 400
    assert client.get("/dashboard/events?before=x").status_code == 200
    assert client.get("/dashboard/deliveries/msg_nope").status_code == 404


def test_the_chart_shows_deliveries_per_minute_by_outcome(app, signed_in, tenant):
    client = signed_in
    make_hook(client, tenant)
    publish(client, tenant, 3)
    ids = [d["id"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json]
    record_attempt(app, ids[0], "failed", "failed", code=500)
    record_attempt(app, ids[1], "succeeded", "succeeded", code=200)
    page = text(client.get("/dashboard/deliveries"))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('class="bar failed"') == 1 and svg.count('class="bar succeeded"') == 1
    assert svg.count('class="bar pending"') == 1
    for outcome, n in (("succeeded", 1), ("pending", 1), ("failed", 1), ("cancelled", 0)):
        assert f'<i class="swatch {outcome}"></i>{outcome} <b>{n}</b>' in page


def test_another_accounts_things_are_not_found(client, tenant, other_tenant):
    hook = make_hook(client, other_tenant)
    publish(client, other_tenant)
    delivery_id = client.get("/api/v1/deliveries", headers=other_tenant.headers).json[0]["id"]
    sign_in(client, tenant.key)
    assert client.get(f"/dashboard/hooks/{hook['id']}").status_code == 404
    assert client.get(f"/dashboard/deliveries/{delivery_id}").status_code == 404
    for path in (f"/dashboard/hooks/{hook['id']}/pause", f"/dashboard/deliveries/{delivery_id}/retry"):
        response = post(client, path)
        assert response.status_code == 404 and "example.com" not in text(response)


# ----- what an account can do -----


def test_pause_resume_and_change_filters(signed_in, tenant):
    client = signed_in
    hook = make_hook(client, tenant)
    page = f"/dashboard/hooks/{hook['id']}"
    assert client.get(page).status_code == 200
    response = post(client, f"{page}/pause", page=page)
    assert response.status_code == 303 and response.location == page
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["status"] == "paused"
    assert f"Hook {hook['id']} paused." in text(client.get(page))
    post(client, f"{page}/resume", page=page)
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["status"] == "active"

    post(client, f"{page}/filters", {"filters": '{"price": {"gte": 5000}}'}, page=page)
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["filters"] == {"price": {"gte": 5000}}
    for bad, message in (("[1]", "Filters must be a JSON object."), ("{", "Filters must be a JSON object.")):
        response = post(client, f"{page}/filters", {"filters": bad}, page=page)
        assert response.status_code == 303 and message in text(client.get(page))
    response = post(client, f"{page}/filters", {"filters": '{"price": {"almost": 1}}'}, page=page)
    assert response.status_code == 303 and "invalid filters" in text(client.get(page))
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=tenant.headers).json["filters"] == {"price": {"gte": 5000}}


def test_send_a_test_event(signed_in, tenant, webhook_receiver):
    client = signed_in
    hook = make_hook(client, tenant, url=webhook_receiver.url("/t"))
    page = f"/dashboard/hooks/{hook['id']}"
    post(client, f"{page}/test", page=page)
    assert len(webhook_receiver.received("/t")) == 1
    assert "Test sent: HTTP 200" in text(client.get(page))


def test_rotate_a_secret_shows_it_once(signed_in, tenant):
    client = signed_in
    hook = make_hook(client, tenant)
    page = f"/dashboard/hooks/{hook['id']}"
    response = post(client, f"{page}/rotate-secret", page=page)
    new_secret = re.search(r"whsec_[A-Za-z0-9+/=]+", text(response)).group(0)
    assert response.status_code == 200 and new_secret != hook["secret"]
    assert "Set-Cookie" not in response.headers or new_secret not in response.headers["Set-Cookie"]
    assert new_secret not in text(client.get(page))


def test_retry_and_recover(app, signed_in, tenant):
    client = signed_in
    hook = make_hook(client, tenant)
    publish(client, tenant, 2)
    first, second = [d["id"] for d in client.get("/api/v1/deliveries", headers=tenant.headers).json]
    for delivery_id in (first, second):
        record_attempt(app, delivery_id, "failed", "failed", code=500)
    response = post(client, f"/dashboard/deliveries/{first}/retry")
    assert response.status_code == 303 and response.location == "/dashboard/deliveries"
    assert f"Delivery {first} queued again." in text(client.get("/dashboard/deliveries"))
    assert client.get(f"/api/v1/deliveries/{first}", headers=tenant.headers).json["status"] == "pending"

    page = f"/dashboard/hooks/{hook['id']}"
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    post(client, f"{page}/recover", {"since": since}, page=page)
    assert "1 deliveries requeued." in text(client.get(page))
    assert client.get(f"/api/v1/deliveries/{second}", headers=tenant.headers).json["status"] == "pending"
    post(client, f"{page}/recover", {"since": "yesterday"}, page=page)
    assert "Give a time to recover from." in text(client.get(page))

    post(client, f"{page}/pause", page=page)
    response = post(client, f"/dashboard/deliveries/{first}/retry")
    assert response.status_code == 303 and "set its status to active first" in text(client.get("/dashboard/deliveries"))


def test_reminder_rules_page_is_empty_until_the_feature_exists(signed_in):
    page = signed_in.get("/dashboard/reminder-rules")
    assert page.status_code == 200 and "No reminder rules." in text(page)


def test_reminder_rules_show_once_the_model_exists(app, signed_in, tenant, monkeypatch):
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from connector import models

    class Base(DeclarativeBase):
        pass

    class ReminderRule(Base):  # the shape the reminders feature may give it
        __tablename__ = "reminder_rules"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        account_id: Mapped[int] = mapped_column(Integer)
        name: Mapped[str] = mapped_column(String(50))
        offset_minutes: Mapped[int] = mapped_column(Integer)

    Base.metadata.create_all(app.extensions["connector.db"].engine)
    with app.extensions["connector.db"].engine.begin() as conn:
        conn.execute(
            ReminderRule.__table__.insert(),
            [
                {"account_id": tenant.id, "name": "day before", "offset_minutes": -1440},
                {"account_id": tenant.id + 1, "name": "someone else's", "offset_minutes": -60},
            ],
        )
    monkeypatch.setattr(models, "ReminderRule", ReminderRule, raising=False)
    page = text(signed_in.get("/dashboard/reminder-rules"))
    assert "day before" in page and "-1440" in page and "offset_minutes" in page
    assert "someone else" not in page


# ----- languages -----


def test_japanese_by_the_browser_and_by_choice(client, tenant):
    login = client.get("/dashboard/login", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in text(login) and "サインイン" in text(login)
    assert '<html lang="en">' in text(client.get("/dashboard/login", headers={"Accept-Language": "fr"}))
    sign_in(client, tenant.key)
    token = csrf(client, "/dashboard/hooks")
    response = client.post("/dashboard/language", data={"lang": "ja", "csrf_token": token, "next": "/dashboard/hooks"})
    assert response.status_code == 303 and response.location == "/dashboard/hooks"
    page = text(client.get("/dashboard/hooks", headers={"Accept-Language": "en"}))
    assert '<html lang="ja">' in page and "フック" in page and "リマインダールール" in page
    client.post("/dashboard/language", data={"lang": "en", "csrf_token": token, "next": "/dashboard/hooks"})
    assert "Reminder rules" in text(client.get("/dashboard/hooks"))


def test_every_english_string_has_a_japanese_one():
    import glob
    import os

    from connector.dashboard import i18n

    root = os.path.dirname(i18n.__file__)
    used = set()
    for path in glob.glob(os.path.join(root, "templates", "dashboard", "*.html")) + [os.path.join(root, "views.py")]:
        with open(path, encoding="utf-8") as f:
            used |= {a or b for a, b in re.findall(r"""_\(\s*(?:"([^"]+)"|'([^']+)')""", f.read())}
    used |= {"Hook {id} paused.", "Hook {id} resumed."}  # given to _set_status
    used |= {"succeeded", "pending", "failed", "cancelled", "retry", "gone", "active", "paused", "disabled"}
    missing = sorted(used - set(i18n.JA))
    assert not missing, missing


def test_the_session_key_is_made_once_per_instance_folder(tmp_path):
    from connector import create_app

    def make(**config):
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'k.sqlite'}", "DISPATCHER": False, **config})
        app.extensions["connector.db"].dispose()
        return app

    # Two processes of one machine share the instance folder, so they share the key.
    first, second = make(), make()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] and len(first.config["SECRET_KEY"]) >= 40
    assert make(SECRET_KEY=12345).config["SECRET_KEY"] == "12345"
