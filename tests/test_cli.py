"""The commands operators and scripts rely on (DESIGN.md §8)."""

import re

from connector.db import make_engine

KEY = re.compile(r"^ck_[a-z0-9]{12}_[A-Za-z0-9_-]+$")


def test_create_account_prints_the_key_last(runner, client):
    result = runner.invoke(args=["create-account", "studio-ebisu"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert KEY.match(key)
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).json["name"] == "studio-ebisu"


def test_create_account_twice_or_badly_named_fails(runner):
    assert runner.invoke(args=["create-account", "studio"]).exit_code == 0
    again = runner.invoke(args=["create-account", "studio"])
    assert again.exit_code != 0 and "exists already" in again.output
    bad = runner.invoke(args=["create-account", "has space"])
    assert bad.exit_code != 0 and "invalid account name" in bad.output


def test_issue_list_and_revoke_keys(runner, client, tenant):
    issued = runner.invoke(args=["keys", "issue", tenant.name, "--label", "zapier"])
    second = issued.output.strip().splitlines()[-1]
    assert KEY.match(second)
    listing = runner.invoke(args=["keys", "list", tenant.name]).output
    assert listing.count("active") == 2 and "zapier" in listing
    assert second not in listing and tenant.key not in listing  # only prefixes
    revoked = runner.invoke(args=["keys", "revoke", tenant.name, second[:15]])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/me", headers={"X-API-Key": second}).status_code == 401
    assert client.get("/api/v1/me", headers=tenant.headers).status_code == 200
    assert "revoked" in runner.invoke(args=["keys", "list", tenant.name]).output


def test_keys_of_an_unknown_account(runner):
    for args in (["keys", "issue", "ghost"], ["keys", "list", "ghost"], ["keys", "revoke", "ghost", "ck_x"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and "no account named 'ghost'" in result.output


def test_db_upgrade_migrates_an_empty_database(tmp_path):
    from connector import create_app

    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    app = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": False})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    engine.dispose()
    app.extensions["connector.db"].dispose()
    assert {"accounts", "api_keys", "hooks", "events", "alembic_version"} <= tables


def test_demo_sets_up_an_account_and_prints_key_and_urls(runner, client):
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "http://127.0.0.1:8000/docs" in first.output
    key = first.output.strip().splitlines()[-1]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).json["name"] == "demo"
    again = runner.invoke(args=["demo", "--no-serve"]).output.strip().splitlines()[-1]
    assert again != key and client.get("/api/v1/me", headers={"X-API-Key": again}).status_code == 200
