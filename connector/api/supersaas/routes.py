"""SuperSaaS compatibility: its own webhooks in (a secret URL per account) and its REST-hooks API."""

import marshmallow as ma
from flask import g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from ...services import accounts, supersaas, utcnow
from ..auth import _credentials, current_account
from ..events.routes import _publish
from ..events.schemas import EventInSchema, PublishedSchema
from ..hooks.routes import limits
from ..session import db_session
from .schemas import InboundArgs, InboundUrlSchema, SubscribeArgs, SupersaasHookSchema, UnsubscribeArgs

# The API's own credential parsing (_credentials) and ingest path (_publish) are reused as they are:
# the same keys, routing, Idempotency-Key handling and dispatcher hand-off as POST /api/v1/events.
blp = Blueprint("supersaas", __name__, description="SuperSaaS compatibility: its webhooks in, its hooks API.")

UNAUTHORIZED = (
    "send account and api_key (query or body), HTTP Basic (account name, key), 'Authorization: Bearer KEY' or 'X-API-Key'"
)


def _inbound_url(token: str) -> str:
    return url_for("supersaas.Inbound", token=token, _external=True)


@blp.route("/api/v1/supersaas/inbound")
class InboundUrl(MethodView):
    @blp.response(201, InboundUrlSchema)
    def post(self):
        """A new secret URL for SuperSaaS's webhooks

        Enter it as the webhook URL of every trigger in the SuperSaaS account. The
        account has one such URL: a new one replaces the previous.
        """
        token = supersaas.issue_inbound_token(db_session(), current_account().id, utcnow())
        return {"url": _inbound_url(token), "token": token}

    @blp.response(204)
    def delete(self):
        """Stop taking SuperSaaS's webhooks (the secret URL stops working)"""
        supersaas.revoke_inbound_token(db_session(), current_account().id)


@blp.route("/supersaas/<token>")
class Inbound(MethodView):
    @blp.arguments(InboundArgs, location="query")
    @blp.response(202, PublishedSchema)
    @blp.alt_response(404, description="Unknown or revoked inbound URL")
    @blp.alt_response(422, description="Not an object with an event the catalog knows")
    @blp.doc(security=[])
    def post(self, args, token):
        """Take one of SuperSaaS's own webhook POSTs as an event

        The body is the object (appointment, user, form, e-mail, purchase) with its `event`
        and `role`, as SuperSaaS sends it (JSON or form-encoded). It is published like
        `POST /api/v1/events` for the account the secret URL belongs to.
        """
        account = supersaas.inbound_account(db_session(), token)
        if account is None:
            abort(404, message="unknown inbound URL")
        g.account = account
        body = request.get_json(silent=True)
        if body is None and request.form:
            body = request.form.to_dict()
        try:
            event = EventInSchema().load(supersaas.inbound_event(body, args.get("object")))
        except ma.ValidationError as error:
            abort(422, errors={"json": error.messages})
        return _publish([event], batch=False)


def _supersaas_account(given: dict) -> accounts.AccountView:
    """SuperSaaS's credentials (account, api_key) or the connector's own (Basic, Bearer, X-API-Key)."""
    if given.get("api_key"):
        creds = (given["api_key"], given.get("account") or None)
    else:
        creds = _credentials()
    if creds is None:
        abort(401, message=f"missing API key: {UNAUTHORIZED}")
    account = accounts.authenticate(db_session(), *creds)
    if account is None:
        abort(401, message="invalid API key")
    return account


def _merged(*parts: dict) -> dict:
    """The arguments wherever the client put them: query string, JSON or form body."""
    merged: dict = {}
    for part in parts:
        merged.update({k: v for k, v in (part or {}).items() if v not in (None, "")})
    return merged


def _form_body(schema: str) -> dict:
    """Document the form-encoded body beside the JSON one (SuperSaaS clients send either)."""
    return {"content": {"application/x-www-form-urlencoded": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _form(schema: type[ma.Schema]) -> dict:
    """A form-encoded body, read by hand: flask-smorest documents one body location per operation."""
    if not request.form:
        return {}
    try:
        return schema().load(request.form.to_dict())
    except ma.ValidationError as error:
        abort(422, errors={"form": error.messages})


def _require(given: dict, *names: str) -> None:
    missing = [name for name in names if name not in given]
    if missing:
        abort(422, message=f"missing {', '.join(missing)}", errors={name: "required" for name in missing})


@blp.route("/api/hooks")
class SupersaasHooks(MethodView):
    @blp.arguments(SubscribeArgs, location="query")
    @blp.arguments(SubscribeArgs, location="json", required=False)
    @blp.doc(requestBody=_form_body("SubscribeArgs"))
    @blp.response(201, SupersaasHookSchema)
    @blp.alt_response(401, description="Missing or invalid credentials")
    @blp.alt_response(422, description="Unknown event code, bad target URL or parent_id")
    def post(self, query, json_body):
        """Subscribe, as SuperSaaS's hooks API does

        `event` is SuperSaaS's one-letter code; R and F are the reminder trigger narrowed
        to reminders or follow-ups. Arguments go in the query string, a JSON or a form body.
        """
        given = _merged(query, _form(SubscribeArgs), json_body)
        account = _supersaas_account(given)
        _require(given, "event", "target_url")
        hook = supersaas.subscribe(
            db_session(),
            account.id,
            event=given["event"],
            target_url=given["target_url"],
            parent_id=given.get("parent_id"),
            now=utcnow(),
            limits=limits(),
        )
        return {**SupersaasHookSchema().dump(hook), "event": given["event"], "parent_id": given.get("parent_id")}

    @blp.arguments(UnsubscribeArgs, location="query")
    @blp.arguments(UnsubscribeArgs, location="json", required=False)
    @blp.doc(requestBody=_form_body("UnsubscribeArgs"))
    @blp.response(204)
    @blp.alt_response(401, description="Missing or invalid credentials")
    @blp.alt_response(404, description="No such hook of yours")
    def delete(self, query, json_body):
        """Unsubscribe, as SuperSaaS's hooks API does

        `id` (and SuperSaaS's `parent_id`, not needed here) in the query string, a JSON or
        a form body. Deleting again is fine.
        """
        given = _merged(query, _form(UnsubscribeArgs), json_body)
        account = _supersaas_account(given)
        _require(given, "id")
        supersaas.unsubscribe(db_session(), account.id, str(given["id"]), utcnow())
