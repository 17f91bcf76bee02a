"""Settings come from defaults, then CONNECTOR_* variables, then the test mapping."""

import os

from connector import create_app


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
