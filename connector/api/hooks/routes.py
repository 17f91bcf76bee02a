"""REST-hook subscriptions: subscribe, list, read, change, unsubscribe."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, Page
from sqlalchemy import func, select

from ...services import hooks as service
from ...services import utcnow
from ..auth import current_account
from ..session import db_session
from .schemas import DeleteByUrlArgs, HookCreatedSchema, HookCreateSchema, HookListArgs, HookPatchSchema, HookSchema

blp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks", description="REST-hook subscriptions.")


def limits() -> service.HookLimits:
    config = current_app.config
    return service.HookLimits(
        max_filter_conditions=config["MAX_FILTER_CONDITIONS"],
        max_target_url_length=config["MAX_TARGET_URL_LENGTH"],
    )


class QueryPage(Page):
    """Pages of a SQLAlchemy select, counted and sliced in the database."""

    @property
    def item_count(self):
        return db_session().scalar(select(func.count()).select_from(self.collection.subquery()))

    @property
    def items(self):
        query = self.collection.offset(self.page_params.first_item).limit(self.page_params.page_size)
        return list(db_session().scalars(query))


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
    @blp.alt_response(422, description="Unknown trigger, bad target URL or invalid filters")
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
