"""Reminder and follow-up rules of the account, and the reminders they schedule."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ...services import reminders as service
from ...services import utcnow
from ..auth import current_account
from ..pages import QueryPage
from ..session import db_session
from .schemas import ReminderListArgs, ReminderSchema, RuleSetInSchema, RuleSetSchema

blp = Blueprint("reminders", __name__, url_prefix="/api/v1", description="Reminders and follow-ups.")


@blp.route("/reminder-rules")
class ReminderRules(MethodView):
    @blp.response(200, RuleSetSchema)
    def get(self):
        """Read your reminder and follow-up rules"""
        return service.get_rules(db_session(), current_account().id)

    @blp.arguments(RuleSetInSchema)
    @blp.response(200, RuleSetSchema)
    @blp.alt_response(422, description="Unknown time zone, bad offset or invalid filters")
    def put(self, body):
        """Replace your reminder and follow-up rules

        Every upcoming booking's pending reminders are rescheduled at once. When one
        falls due a `reminder` event (event `reminder` or `follow_up`, role 7, the
        booking as object) goes to your hooks on the `reminder` trigger.
        """
        return service.put_rules(
            db_session(),
            current_account().id,
            body["rules"],
            utcnow(),
            timezone=body["timezone"],
            max_filter_conditions=current_app.config["MAX_FILTER_CONDITIONS"],
        )


@blp.route("/reminders")
class Reminders(MethodView):
    @blp.arguments(ReminderListArgs, location="query")
    @blp.response(200, ReminderSchema(many=True))
    @blp.paginate(QueryPage, max_page_size=100)
    def get(self, args):
        """List your bookings' reminders, soonest due first

        pending until due, then fired (with the event it published), skipped (due while
        the connector was down, beyond the allowed lateness) or cancelled.
        """
        return service.reminders_query(current_account().id, args.get("status"), args.get("booking_id"))
