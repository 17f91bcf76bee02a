"""The delivery log: every delivery with its attempts; redeliver one."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ... import background
from ...services import deliveries as service
from ...services import utcnow
from ..auth import current_account
from ..pages import QueryPage
from ..session import db_session
from .schemas import DeliveryDetailSchema, DeliveryListArgs, DeliverySchema

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries", description="The delivery log.")


def _detail(delivery):
    delivery.payload = service.payload_of(delivery)
    return delivery


@blp.route("")
class Deliveries(MethodView):
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.paginate(QueryPage, max_page_size=100)
    def get(self, args):
        """List deliveries, newest first

        Narrow by `hook_id`, `event_id` and `status`; paginated like `/hooks`.
        """
        return service.deliveries_query(current_account().id, **args)


@blp.route("/<delivery_id>")
class DeliveryById(MethodView):
    @blp.response(200, DeliveryDetailSchema)
    @blp.alt_response(404, description="No such delivery of yours")
    def get(self, delivery_id):
        """One delivery: its payload and every attempt"""
        return _detail(service.get_delivery(db_session(), current_account().id, delivery_id))


@blp.route("/<delivery_id>/retry")
class DeliveryRetry(MethodView):
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, description="No such delivery of yours")
    @blp.alt_response(409, description="The hook is not active, or the delivery is being attempted")
    def post(self, delivery_id):
        """Deliver again now, with a fresh retry schedule"""
        delivery = service.retry_delivery(db_session(), current_account().id, delivery_id, utcnow())
        background.wake(current_app)
        return delivery
