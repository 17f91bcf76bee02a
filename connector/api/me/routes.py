"""GET /api/v1/me: the connection test of Zapier and Make."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth import current_account
from .schemas import MeSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="Who an API key belongs to.")


@blp.route("")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The account the key belongs to

        Zapier's and Make's connection test; `name` is the connection label.
        """
        return current_account()
