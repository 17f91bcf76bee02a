"""Fixtures: an app on a real (migrated) SQLite file per test, its client, its CLI runner, accounts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from connector import create_app
from connector.db import Base, make_engine
from connector.migrate import upgrade
from connector.services import accounts, utcnow

# Tests deliver to receivers on 127.0.0.1: the SSRF guard lets loopback through for them only.
LOCAL_TARGETS = "127.0.0.0/8,::1/128"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Migrate once; every test gets a copy of the file (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


#: SQLite always; PostgreSQL as well when CONNECTOR_TEST_DATABASE_URL names a server (CI sets it).
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("CONNECTOR_TEST_DATABASE_URL") else [])]


@pytest.fixture(scope="session")
def postgres_template():
    """One migrated database of its own on the test server for the session, emptied before each test."""
    from tests import pg

    with pg.fresh_database(os.environ["CONNECTOR_TEST_DATABASE_URL"]) as url:
        engine = make_engine(url)
        upgrade(engine)
        tables = [t.name for t in Base.metadata.sorted_tables]
        yield url, engine, tables
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, migrated_template):
    """A migrated, empty database for one test: a copy of the SQLite template, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        db_file = tmp_path / "connector.sqlite"
        shutil.copy(migrated_template, db_file)
        return f"sqlite:///{db_file}"
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite itself")
    url, engine, tables = request.getfixturevalue("postgres_template")
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
def app(database_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "AUTO_MIGRATE": False,
            "DISPATCHER": False,
            "TARGET_ALLOWLIST": LOCAL_TARGETS,
        }
    )
    yield app
    app.extensions["connector.db"].dispose()


def app_with(db_file, migrated_template, **config):
    """An app on a copy of the migrated database with these settings over the test defaults (no dispatcher)."""
    shutil.copy(migrated_template, db_file)
    defaults = {"TESTING": True, "DATABASE_URL": f"sqlite:///{db_file}", "AUTO_MIGRATE": False, "DISPATCHER": False}
    return create_app({**defaults, **config})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class Tenant:
    id: int
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_tenant(app, name: str) -> Tenant:
    with app.extensions["connector.db"].session() as session:
        account, key = accounts.create_account(session, name, utcnow())
        return Tenant(account.id, account.name, key)


@pytest.fixture
def tenant(app) -> Tenant:
    return make_tenant(app, "yoga-shibuya")


@pytest.fixture
def other_tenant(app) -> Tenant:
    return make_tenant(app, "other-studio")


ZAPIER_SCHEMA_VERSION = "19.1.0"


@pytest.fixture(scope="session")
def zapier_schema():
    """zapier-platform-schema's own JSON schemas, from the npm registry (cached under .cache/)."""

    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "npm")
    path = os.path.join(root, "node_modules", "zapier-platform-schema", "exported-schema.json")
    if not os.path.exists(path):
        os.makedirs(root, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                root,
                f"zapier-platform-schema@{ZAPIER_SCHEMA_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    with open(path, encoding="utf-8") as f:
        schemas = json.load(f)["schemas"]
    registry = Registry().with_resources(
        (s["id"], Resource.from_contents(s, default_specification=DRAFT7)) for s in schemas.values()
    )
    return lambda schema_id: Draft7Validator({"$ref": schema_id}, registry=registry)


@pytest.fixture
def webhook_receiver():
    from tests.receiver import WebhookReceiver

    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def live_app(database_url):
    """An app whose dispatcher runs, with quick polling and a short retry schedule."""
    from connector import background

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "AUTO_MIGRATE": False,
            "DISPATCHER": False,
            "POLL_INTERVAL": 0.05,
            "RETRY_SCHEDULE": "[0.05, 0.05, 0.05]",
            "RETRY_JITTER": 0.0,
            "DELIVERY_TIMEOUT": 2.0,
            "TARGET_ALLOWLIST": LOCAL_TARGETS,
        }
    )
    background.start(app)
    yield app
    background.stop(app, timeout=2)
    app.extensions["connector.db"].dispose()
