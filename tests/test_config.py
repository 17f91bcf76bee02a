"""Settings come from defaults, then CONNECTOR_* variables, then the test mapping."""

import os
import subprocess
import sys

import pytest

from connector import create_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_embedded_default_is_a_migrated_wal_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    app = create_app({"DISPATCHER": False})
    try:
        url = app.config["DATABASE_URL"]
        assert url == "sqlite:///" + os.path.join(app.instance_path, "connector.sqlite")
        assert app.config["AUTO_MIGRATE"] is True
        with app.extensions["connector.db"].engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    finally:
        app.extensions["connector.db"].dispose()


def test_environment_then_test_mapping(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("CONNECTOR_DISPATCHER", "off")
    monkeypatch.setenv("CONNECTOR_MAX_CONTENT_LENGTH", "2048")
    app = create_app({"MAX_CONTENT_LENGTH": 4096})
    try:
        assert app.config["DATABASE_URL"].endswith("env.sqlite")
        assert app.config["DISPATCHER"] is False
        assert app.config["MAX_CONTENT_LENGTH"] == 4096  # the test mapping wins
        assert (tmp_path / "env.sqlite").exists()
    finally:
        app.extensions["connector.db"].dispose()


def test_a_server_database_is_not_migrated_at_start(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test", "DISPATCHER": False})
    assert app.config["AUTO_MIGRATE"] is False
    app.extensions["connector.db"].dispose()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://", "in-memory SQLite database is not supported"),
        ("sqlite:///:memory:", "in-memory SQLite database is not supported"),
        ("sqlite:///file:x?mode=memory&uri=true", "in-memory SQLite database is not supported"),
        ("sqlite:////no/such/folder/c.sqlite", "folder of the SQLite file does not exist: /no/such/folder"),
        ("mysql://u:pw@db/x", "mysql://u:***@db/x is not supported"),
        ("nonsense", "is not a database URL: 'nonsense'"),
    ],
)
def test_a_database_url_it_cannot_run_on_stops_the_start_named(url, words, tmp_path):
    with pytest.raises(ValueError, match="CONNECTOR_DATABASE_URL") as refused:
        create_app({"DATABASE_URL": url, "DISPATCHER": False})
    assert words in str(refused.value)
    assert "pw" not in str(refused.value)


def test_the_cli_names_a_bad_database_url(tmp_path):
    env = {**os.environ, "CONNECTOR_DATABASE_URL": "sqlite://"}
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "in-memory SQLite database is not supported" in out.stderr
