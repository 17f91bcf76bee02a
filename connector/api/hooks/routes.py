"""REST-hook subscriptions: subscribe, list, read, change, unsubscribe."""

from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ... import background
from ...delivery.guard import TargetGuard
from ...services import deliveries, utcnow
from ...services import hooks as service
from ..auth import current_account
from ..pages import QueryPage
from ..session import db_session
from .schemas import (
    DeleteByUrlArgs,
    HookCreatedSchema,
    HookCreateSchema,
    HookListArgs,
    HookPatchSchema,
    HookSchema,
    HookSecretSchema,
    HookTestSchema,
    RecoverArgs,
    RecoveredSchema,
    RotateArgs,
)

blp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks", description="REST-hook subscriptions.")


def limits() -> service.HookLimits:
    config = current_app.config
    return service.HookLimits(
        max_filter_conditions=config["MAX_FILTER_CONDITIONS"],
        max_target_url_length=config["MAX_TARGET_URL_LENGTH"],
        max_hooks_per_account=int(config["MAX_HOOKS_PER_ACCOUNT"]),
        max_filter_depth=int(config["MAX_FILTER_DEPTH"]),
        max_filter_values=int(config["MAX_FILTER_VALUES"]),
        max_filter_bytes=int(config["MAX_FILTER_BYTES"]),
        guard=TargetGuard.from_config(config),
        resolve_timeout=float(config["TARGET_RESOLVE_TIMEOUT"]),
    )


@blp.route("")
class Hooks(MethodView):
    @blp.arguments(HookListArgs, location="query")
    @blp.response(200, HookSchema(many=True))
    @blp.paginate(QueryPage, max_page_size=100)
    def get(self, args):
        """List your hooks, oldest first

        Paginated with `page` and `page_size`; the `X-Pagination` header holds the totals.
        """
        return service.hooks_query(current_account().id, args.get("trigger"), args.get("status"))

    @blp.arguments(HookCreateSchema)
    @blp.response(201, HookCreatedSchema)
    @blp.alt_response(422, description="Unknown trigger, bad or refused target URL, invalid filters or over a filter limit")
    @blp.alt_response(409, description="The account has CONNECTOR_MAX_HOOKS_PER_ACCOUNT hooks already")
    def post(self, body):
        """Subscribe a target URL to a trigger

        Zapier's `performSubscribe`, Make's attach. The answer holds the hook's `id`
        (keep it to unsubscribe) and its signing `secret`.
        """
        return service.create_hook(db_session(), current_account().id, now=utcnow(), limits=limits(), **body)

    @blp.arguments(DeleteByUrlArgs, location="query")
    @blp.response(204)
    def delete(self, args):
        """Unsubscribe every hook of yours on a target URL (Make's detach)"""
        service.delete_hooks_by_url(db_session(), current_account().id, args["target_url"], utcnow())


@blp.route("/<hook_id>")
class HookById(MethodView):
    @blp.response(200, HookSchema)
    @blp.alt_response(404, description="No such hook of yours")
    def get(self, hook_id):
        """Read one hook"""
        return service.get_hook(db_session(), current_account().id, hook_id)

    @blp.arguments(HookPatchSchema)
    @blp.response(200, HookSchema)
    @blp.alt_response(404, description="No such hook of yours")
    @blp.alt_response(422, description="Bad target URL, invalid filters or status")
    def patch(self, changes, hook_id):
        """Change a hook: target URL, filters, pause or resume

        `status: active` also re-enables a hook the connector disabled.
        """
        return service.update_hook(db_session(), current_account().id, hook_id, changes, utcnow(), limits())

    @blp.response(204)
    @blp.alt_response(404, description="No such hook of yours")
    def delete(self, hook_id):
        """Unsubscribe (Zapier's performUnsubscribe); again is fine"""
        service.delete_hook(db_session(), current_account().id, hook_id, utcnow())


@blp.route("/<hook_id>/test")
class HookTest(MethodView):
    @blp.response(200, HookTestSchema)
    @blp.alt_response(404, description="No such hook of yours")
    def post(self, hook_id):
        """Send the newest sample to the target now

        Signed like a real push; the answer holds the attempt (status, duration,
        error, the first bytes of the response). Not recorded in the delivery log.
        """
        config = current_app.config
        return deliveries.send_test(
            db_session(),
            current_account().id,
            hook_id,
            utcnow(),
            timeout=float(config["DELIVERY_TIMEOUT"]),
            cap=int(config["MAX_RESPONSE_BYTES"]),
            guard=TargetGuard.from_config(config),
        )


@blp.route("/<hook_id>/rotate-secret")
class HookRotateSecret(MethodView):
    @blp.arguments(RotateArgs, location="json", required=False)
    @blp.response(200, HookSecretSchema)
    @blp.alt_response(404, description="No such hook of yours")
    def post(self, args, hook_id):
        """A new signing secret

        The old secret keeps signing, as a second `webhook-signature`, for a grace period.
        """
        grace = args.get("grace_seconds", current_app.config["SECRET_GRACE_SECONDS"])
        return deliveries.rotate_secret(db_session(), current_account().id, hook_id, utcnow(), timedelta(seconds=grace))


@blp.route("/<hook_id>/recover")
class HookRecover(MethodView):
    @blp.arguments(RecoverArgs)
    @blp.response(202, RecoveredSchema)
    @blp.alt_response(404, description="No such hook of yours")
    @blp.alt_response(409, description="The hook is not active")
    def post(self, args, hook_id):
        """Deliver again every failed delivery since a time"""
        count = deliveries.recover_hook(db_session(), current_account().id, hook_id, args["since"], utcnow())
        background.wake(current_app)
        return {"recovered": count}
