"""The dashboard's pages and forms. Reads come from services.dashboard; every change goes
through the same service function as the API's (hooks, deliveries)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from .. import background, catalog
from ..api.hooks.routes import limits
from ..api.session import db_session
from ..services import dashboard as reads
from ..services import deliveries, hooks, utcnow
from ..services.errors import NotFound, ServiceError
from . import chart, i18n, security
from .i18n import gettext as _

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates", static_folder="static")

PUBLIC = {"dashboard.login", "dashboard.language", "dashboard.static"}
DELIVERY_STATUSES = ("failed", "cancelled", "pending", "succeeded")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# ----- every request -----


@bp.before_request
def _guard() -> Response | None:
    security.check_csrf()
    if request.endpoint in PUBLIC:
        return None
    key_id = session.get("key_id")
    account = reads.signed_in(db_session(), key_id) if isinstance(key_id, int) else None
    if account is None or account.id != session.get("account_id"):
        if key_id is not None:
            security.end_session()
            flash(_("Your session ended. Please sign in again."), "error")
        return redirect(url_for(".login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    g.dashboard_account = account
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.context_processor
def _context() -> dict[str, Any]:
    return {
        "_": _,
        "csrf_token": security.csrf_token,
        "lang": i18n.language(),
        "languages": i18n.LANGUAGES,
        "account": g.get("dashboard_account"),
        "here": request.full_path.rstrip("?"),
        "catalog": catalog,
    }


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    message = _("The form expired. Please try again.") if error.description == "csrf" else error.description
    if error.code == 404:
        message = message or _("Not found")
    return render_template("dashboard/error.html", code=error.code, message=message), error.code


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    """Not found is a 404 page; a refused change goes back to the page, with the reason."""
    if isinstance(error, NotFound) or request.method != "POST":
        return render_template("dashboard/error.html", code=error.status, message=error.message), error.status
    details = "".join(f" {k}: {v}" for k, v in (error.errors or {}).items())
    flash(error.message + details, "error")
    return _back()


def _back(default: str = ".deliveries_page") -> Response:
    """303 to the page the form was on (only ever a dashboard path)."""
    target = request.form.get("next", "")
    if not target.startswith("/dashboard/") or target.startswith("//"):
        target = url_for(default)
    return redirect(target, 303)


def _bounded(number: int | None) -> int | None:
    """A page number or sequence from the query string, kept within what a database column holds."""
    if number is not None and not 1 <= number <= 2**53:
        abort(400, description=f"{number} is out of range")
    return number


def _account_id() -> int:
    return security.current_account().id


# ----- sign-in, language -----


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_page = request.values.get("next", "")
    if not next_page.startswith("/dashboard/"):
        next_page = ""
    if request.method == "POST":
        signed = reads.sign_in(db_session(), request.form.get("key", ""))
        if signed is not None:
            security.start_session(signed.key_id, signed.account.id)
            return redirect(next_page or url_for(".deliveries_page"), 303)
        flash(_("That API key is not valid."), "error")
        return render_template("dashboard/login.html", next=next_page), 401
    return render_template("dashboard/login.html", next=next_page)


@bp.post("/logout")
def logout():
    security.end_session()
    return redirect(url_for(".login"), 303)


@bp.post("/language")
def language():
    if request.form.get("lang") in i18n.LANGUAGES:
        session["lang"] = request.form["lang"]
    return _back(".login")


@bp.get("/")
def index():
    return redirect(url_for(".deliveries_page"))


# ----- hooks -----


@bp.get("/hooks")
def hooks_page():
    rows = reads.hooks_health(db_session(), _account_id(), utcnow())
    return render_template("dashboard/hooks.html", rows=rows)


@bp.get("/hooks/<hook_id>")
def hook_page(hook_id: str):
    hook = hooks.get_hook(db_session(), _account_id(), hook_id)
    (health,) = reads.hooks_health(db_session(), _account_id(), utcnow(), hook.id)
    since = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return render_template(
        "dashboard/hook.html", health=health, hook=hook, since=since, filters=json.dumps(hook.filters, ensure_ascii=False)
    )


def _set_status(hook_id: str, status: str, message: str) -> Response:
    hooks.update_hook(db_session(), _account_id(), hook_id, {"status": status}, utcnow(), limits())
    background.wake(current_app)
    flash(_(message, id=hook_id), "ok")
    return _back()


@bp.post("/hooks/<hook_id>/pause")
def pause(hook_id: str):
    return _set_status(hook_id, "paused", "Hook {id} paused.")


@bp.post("/hooks/<hook_id>/resume")
def resume(hook_id: str):
    return _set_status(hook_id, "active", "Hook {id} resumed.")


@bp.post("/hooks/<hook_id>/filters")
def save_filters(hook_id: str):
    try:
        filters = json.loads(request.form.get("filters", "") or "{}")
    except ValueError:
        filters = None
    if not isinstance(filters, dict):
        flash(_("Filters must be a JSON object."), "error")
        return _back()
    hooks.update_hook(db_session(), _account_id(), hook_id, {"filters": filters}, utcnow(), limits())
    flash(_("Filters of {id} saved.", id=hook_id), "ok")
    return _back()


@bp.post("/hooks/<hook_id>/test")
def send_test(hook_id: str):
    config = current_app.config
    sent = deliveries.send_test(
        db_session(),
        _account_id(),
        hook_id,
        utcnow(),
        timeout=float(config["DELIVERY_TIMEOUT"]),
        cap=int(config["MAX_RESPONSE_BYTES"]),
    )
    attempt = sent["attempt"]
    result = f"HTTP {attempt.status_code}" if attempt.status_code is not None else (attempt.error or "?")
    flash(_("Test sent: {result}.", result=f"{result}, {_('{n} ms', n=attempt.duration_ms)}"), "ok")
    return _back()


@bp.post("/hooks/<hook_id>/rotate-secret")
def rotate_secret(hook_id: str):
    grace = timedelta(seconds=float(current_app.config["SECRET_GRACE_SECONDS"]))
    hook = deliveries.rotate_secret(db_session(), _account_id(), hook_id, utcnow(), grace)
    # Shown on this answer only, never put in the (client-side) session.
    return render_template("dashboard/secret.html", hook=hook)


@bp.post("/hooks/<hook_id>/recover")
def recover(hook_id: str):
    try:
        since = datetime.fromisoformat(request.form.get("since", ""))
    except ValueError:
        flash(_("Give a time to recover from."), "error")
        return _back()
    since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
    count = deliveries.recover_hook(db_session(), _account_id(), hook_id, since, utcnow())
    background.wake(current_app)
    flash(_("{n} deliveries requeued.", n=count), "ok")
    return _back()


# ----- events -----


@bp.get("/events")
def events_page():
    trigger = request.args.get("trigger") or None
    event = request.args.get("event") or None
    if trigger is not None and trigger not in catalog.TRIGGERS:
        abort(400, description=f"unknown trigger {trigger!r}")
    before = _bounded(request.args.get("before", type=int))
    rows = reads.recent_events(db_session(), _account_id(), trigger, event, before)
    events = sorted({e for t in catalog.TRIGGERS.values() for e in t.events})
    return render_template("dashboard/events.html", rows=rows, trigger=trigger, event=event, event_values=events)


# ----- deliveries -----


@bp.get("/deliveries")
def deliveries_page():
    status = request.args.get("status") or None
    if status is not None and status not in DELIVERY_STATUSES:
        abort(400, description=f"unknown status {status!r}")
    page = _bounded(request.args.get("page", 1, type=int)) or 1
    filters = {"hook_id": request.args.get("hook_id") or None, "event_id": request.args.get("event_id") or None}
    rows, more = reads.deliveries_page(
        db_session(), _account_id(), status=status, page=page, page_size=int(current_app.config["DASHBOARD_PAGE_SIZE"]), **filters
    )
    minutes = reads.deliveries_per_minute(db_session(), _account_id(), utcnow())
    return render_template(
        "dashboard/deliveries.html",
        rows=rows,
        more=more,
        page=page,
        status=status,
        statuses=DELIVERY_STATUSES,
        chart=chart.build(minutes),
        **filters,
    )


@bp.get("/deliveries/<delivery_id>")
def delivery_page(delivery_id: str):
    delivery = deliveries.get_delivery(db_session(), _account_id(), delivery_id)
    payload = json.dumps(deliveries.payload_of(delivery), ensure_ascii=False, indent=2)
    return render_template("dashboard/delivery.html", d=delivery, payload=payload)


@bp.post("/deliveries/<delivery_id>/retry")
def retry(delivery_id: str):
    deliveries.retry_delivery(db_session(), _account_id(), delivery_id, utcnow())
    background.wake(current_app)
    flash(_("Delivery {id} queued again.", id=delivery_id), "ok")
    return _back()


# ----- reminder rules -----


@bp.get("/reminder-rules")
def reminder_rules_page():
    rules = reads.reminder_rules(db_session(), _account_id())
    columns = list(rules[0]) if rules else []
    return render_template("dashboard/reminder_rules.html", rules=rules, columns=columns)
