"""Pagination of SQLAlchemy queries for flask-smorest."""

from flask_smorest import Page
from sqlalchemy import func, select

from .session import db_session

MAX_OFFSET = 2**62


class QueryPage(Page):
    """Pages of a SQLAlchemy select, counted and sliced in the database."""

    @property
    def item_count(self):
        return db_session().scalar(select(func.count()).select_from(self.collection.subquery()))

    @property
    def items(self):
        if self.page_params.first_item > MAX_OFFSET:
            return []  # far past any last page (and past what a database integer holds)
        query = self.collection.offset(self.page_params.first_item).limit(self.page_params.page_size)
        return list(db_session().scalars(query))
