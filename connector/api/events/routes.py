"""Publishing events (the scheduling platform) and polling them (subscribers without hooks)."""

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from webargs.flaskparser import FlaskParser

from ... import background
from ...models import Event
from ...services import publish, samples, utcnow
from ..auth import current_account
from ..session import database, db_session, raw_connection
from ..triggers.schemas import PayloadSchema
from . import ingest
from .schemas import BatchPublishedSchema, EventInSchema, PollArgs, PublishedSchema, load_plain, load_plain_many


class _IngestParser(FlaskParser):
    """Takes a plainly valid event body without a schema pass; everything else as usual."""

    def parse(self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any) -> Any:
        if location == "json" and isinstance(argmap, EventInSchema) and request.is_json:
            body = request.get_json(silent=True)
            loaded = load_plain_many(body) if argmap.many else load_plain(body)
            if loaded is not None:
                return loaded
        return super().parse(argmap, req, location=location, **kwargs)


class _EventsBlueprint(Blueprint):
    ARGUMENTS_PARSER = _IngestParser()


blp = _EventsBlueprint("events", __name__, url_prefix="/api/v1/events", description="Publish and poll events.")


# Read by hand rather than by a second webargs pass: this is the ingest hot path.
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Repeat a request safely: the same key and body return the first answer.",
}


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        abort(422, message="Idempotency-Key must be 1 to 200 characters", errors={"headers": {"Idempotency-Key": "1 to 200"}})
    return key


def _publish(events: list[dict], batch: bool) -> Response:
    """Store, answer, and hand the new deliveries to this process's dispatcher at once."""
    dispatcher = background.local_dispatcher(current_app)
    key = _idempotency_key()
    new_events = ingest.new_events(events)
    if key is None and database().fast_path and not publish.needs_session(new_events):
        stored = ingest.store_plain(raw_connection(), database().writer(), current_account().id, new_events, batch, dispatcher)
        return Response(ingest.finish(dispatcher, stored), 202, mimetype="application/json")
    respond, published = ingest.responder(batch)
    idempotency = (key, publish.request_hash(request.get_data())) if key else None
    response, jobs, replayed = publish.publish_request(
        db_session(),
        current_account().id,
        new_events,
        utcnow(),
        make_response=respond,
        idempotency=idempotency,
        lease=ingest.lease_of(dispatcher),
    )
    ingest.handed_over(dispatcher, jobs, [] if replayed else published)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(ingest.encode(response), 202, headers, mimetype="application/json")


@blp.route("")
class Events(MethodView):
    @blp.arguments(EventInSchema())
    @blp.response(202, PublishedSchema)
    @blp.alt_response(409, description="Idempotency-Key reused with another body")
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, event):
        """Publish an event

        Routed to every trigger it belongs to and to every active hook of the account
        on those triggers whose filters match. Answered only after the event and its
        deliveries are stored; the first attempts start at once.
        """
        return _publish([event], batch=False)

    @blp.arguments(PollArgs, location="query")
    @blp.response(200, PayloadSchema(many=True))
    def get(self, args):
        """Poll: payloads of a trigger, newest first

        The same shape as a push. `after` (an event id) returns only newer ones.
        """
        account_id = current_account().id
        after_seq = None
        if args.get("after"):
            after_seq = db_session().scalar(select(Event.seq).where(Event.id == args["after"], Event.account_id == account_id))
            if after_seq is None:
                abort(404, message=f"no event {args['after']!r}")
        return samples.latest_payloads(db_session(), account_id, args["trigger"], args["limit"], after_seq)


@blp.route("/batch")
class EventBatch(MethodView):
    @blp.arguments(EventInSchema(many=True))
    @blp.response(202, BatchPublishedSchema)
    @blp.alt_response(409, description="Idempotency-Key reused with another body")
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, events):
        """Publish several events in one transaction

        A list of the same objects as `POST /events`; all are stored or none.
        """
        most = current_app.config["MAX_BATCH_EVENTS"]
        if not events or len(events) > most:
            abort(
                422,
                message=f"a batch holds 1 to {most} events (CONNECTOR_MAX_BATCH_EVENTS)",
                errors={"json": f"1 to {most} events"},
            )
        return _publish(events, batch=True)
