"""With the database unreachable, the API answers 503 JSON (never 500), stores nothing, and heals by itself."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from connector import create_app
from connector.models import Event
from tests import pg
from tests.conftest import make_tenant

pytestmark = pytest.mark.skipif(not pg.available(), reason="no PostgreSQL server on the test URL")

EVENT = {"object": "purchase", "event": "purchase", "role": 3, "data": {"id": 1, "product": "回数券"}}


@pytest.fixture
def cut_off_app():
    """An app on a fresh PostgreSQL database, reached through a proxy the test can cut."""
    with pg.fresh_database() as url:
        server = make_url(url)
        proxy = pg.TcpProxy(server.host or "127.0.0.1", server.port or 5432)
        through = server.set(host="127.0.0.1", port=proxy.listen_port).render_as_string(hide_password=False)
        app = create_app({"TESTING": True, "DATABASE_URL": through, "AUTO_MIGRATE": True, "DISPATCHER": False})
        try:
            yield app, proxy
        finally:
            proxy.close()
            app.extensions["connector.db"].dispose()


def stored_events(app) -> int:
    with app.extensions["connector.db"].session() as session:
        return session.scalar(select(func.count()).select_from(Event))


def test_outage_answers_503_stores_nothing_and_recovers(cut_off_app):
    app, proxy = cut_off_app
    client = app.test_client()
    tenant = make_tenant(app, "studio")
    assert client.post("/api/v1/events", json=EVENT, headers=tenant.headers).status_code == 202

    proxy.cut()
    for path in ("/api/v1/events", "/api/v1/events/batch"):
        body = EVENT if path.endswith("events") else [EVENT, EVENT]
        response = client.post(path, json=body, headers=tenant.headers)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.json["code"] == 503 and "database unavailable" in response.json["message"]
        assert response.headers["Retry-After"] == "5"
    assert client.get("/api/v1/hooks", headers=tenant.headers).status_code == 503
    assert client.get("/readyz").status_code == 503

    proxy.open()  # the database is back on the same address: no restart needed
    assert client.get("/readyz").status_code == 200
    assert client.post("/api/v1/events", json=EVENT, headers=tenant.headers).status_code == 202
    assert stored_events(app) == 2, "the requests answered 503 stored nothing"
