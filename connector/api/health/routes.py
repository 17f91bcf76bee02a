"""/healthz (the process is up) and /readyz (the database answers)."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..session import db_session

blp = Blueprint("health", __name__, description="Liveness and readiness.")


class StatusSchema(ma.Schema):
    status = ma.fields.String(required=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, StatusSchema)
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, StatusSchema)
    @blp.alt_response(503, description="The database cannot be reached")
    def get(self):
        """The database can be reached"""
        try:
            db_session().execute(text("SELECT 1"))
        except SQLAlchemyError:
            abort(503, message="database unreachable")
        return {"status": "ready"}
