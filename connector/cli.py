"""Flask commands: accounts and keys, migrations, the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from . import background
from .db import Database
from .integrations.cli import init_integrations_cli
from .services import accounts, utcnow
from .services.errors import ServiceError


def _database() -> Database:
    return current_app.extensions["connector.db"]


def _fail(error: ServiceError) -> None:
    raise click.ClickException(error.message + "".join(f"\n  {k}: {v}" for k, v in (error.errors or {}).items()))


@click.command("create-account")
@click.argument("name")
@with_appcontext
def create_account(name: str) -> None:
    """Create an account and its first API key; the key alone is the last line."""
    with _database().session() as session:
        try:
            account, key = accounts.create_account(session, name, utcnow())
        except ServiceError as error:
            _fail(error)
        click.echo(f"Account {account.name!r} created. Its API key, shown this once:", err=True)
        click.echo(key)


keys = AppGroup("keys", help="Issue, list and revoke an account's API keys.")


@keys.command("issue")
@click.argument("account")
@click.option("--label", default="", help="A note to tell keys apart.")
def issue_key(account: str, label: str) -> None:
    """Issue another key; the key alone is the last line."""
    with _database().session() as session:
        try:
            _, key = accounts.issue_key(session, account, utcnow(), label)
        except ServiceError as error:
            _fail(error)
        click.echo(key)


@keys.command("list")
@click.argument("account")
def list_keys(account: str) -> None:
    """List keys by prefix (the keys themselves are not kept)."""
    with _database().session() as session:
        try:
            rows = accounts.list_keys(session, account)
        except ServiceError as error:
            _fail(error)
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            click.echo(f"ck_{row.prefix}_…\t{state}\tcreated {row.created_at:%Y-%m-%d %H:%M}\t{row.label}")


@keys.command("revoke")
@click.argument("account")
@click.argument("prefix")
def revoke_key(account: str, prefix: str) -> None:
    """Revoke a key by its prefix (as `keys list` shows it); it fails at once."""
    with _database().session() as session:
        try:
            row = accounts.revoke_key(session, account, prefix, utcnow())
        except ServiceError as error:
            _fail(error)
        click.echo(f"revoked ck_{row.prefix}_…")


db = AppGroup("db", help="Database schema (Alembic migrations).")


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema."""
    from .migrate import upgrade

    upgrade(_database().engine, revision)
    click.echo(f"database at {revision}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database (developers)."""
    from .migrate import revision

    revision(_database().engine, message)


DEMO_ALLOWLIST = "127.0.0.0/8,::1/128"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--account", default="demo", show_default=True)
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not serve.")
@with_appcontext
def demo(host: str, port: int, account: str, no_serve: bool) -> None:
    """Create (or reuse) a demo account, print a fresh API key and the URLs, then serve.

    Unless CONNECTOR_TARGET_ALLOWLIST says otherwise, hooks of the demo may reach
    this machine (127.0.0.0/8, ::1): local receivers are what a demo talks to.
    """
    config = current_app.config
    if not config["TARGET_ALLOWLIST"]:
        config["TARGET_ALLOWLIST"] = DEMO_ALLOWLIST
    with _database().session() as session:
        try:
            accounts.get_account(session, account)
            _, key = accounts.issue_key(session, account, utcnow(), "demo")
        except ServiceError:
            _, key = accounts.create_account(session, account, utcnow())
    base = f"http://{host}:{port}"
    click.echo(
        f"""
Connector demo — account {account!r}, database {_database().url}
  API        {base}/api/v1   (try: curl -H "Authorization: Bearer $KEY" {base}/api/v1/me)
  Docs       {base}/docs
  OpenAPI    {base}/openapi.json
  Dashboard  {base}/dashboard   (sign in with the key below)
  Metrics    {base}/metrics
  Health     {base}/healthz
  Targets    hooks may also reach {config["TARGET_ALLOWLIST"]} (CONNECTOR_TARGET_ALLOWLIST)
API key (shown once; `flask --app wsgi keys issue {account}` makes another):
{key}"""
    )
    if not no_serve:
        from werkzeug.serving import run_simple

        app = current_app._get_current_object()
        background.start(app)
        try:
            run_simple(host, port, app, threaded=True)
        finally:
            background.stop(app)


@click.command("worker")
@click.option("--processes", default=1, show_default=True, help="Dispatcher processes (each its own GIL and event loop).")
@click.option("--stop-timeout", default=10.0, show_default=True, help="Seconds in-flight attempts get on SIGTERM.")
@click.option("--no-scheduler", is_flag=True, hidden=True, help="A helper process of another worker.")
@click.pass_context
@with_appcontext
def worker(ctx: click.Context, processes: int, stop_timeout: float, no_scheduler: bool) -> None:
    """Run dispatchers and the scheduler, no HTTP, until SIGTERM or SIGINT.

    With --processes N this process and N-1 helpers deliver from the same database;
    the scheduler (housekeeping) runs in this one only.
    """
    app = current_app._get_current_object()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    app_path = ctx.find_object(ScriptInfo).app_import_path or "wsgi"
    helpers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", app_path, "worker", "--no-scheduler", "--stop-timeout", str(stop_timeout)]
        )
        for _ in range(max(0, processes - 1))
    ]
    dispatcher = background.start(app, scheduler=not no_scheduler)
    click.echo(f"worker {dispatcher.owner} delivering from {_database().url}", err=True)
    parent = os.getppid()
    while not stop.wait(1.0):
        if no_scheduler and os.getppid() != parent:
            break  # the worker that started this helper is gone
    click.echo("stopping: finishing attempts in flight", err=True)
    for helper in helpers:
        helper.send_signal(signal.SIGTERM)
    background.stop(app, stop_timeout)
    for helper in helpers:
        helper.wait(stop_timeout + 15)


def init_cli(app: Flask) -> None:
    for command in (create_account, keys, db, demo, worker):
        app.cli.add_command(command)
    init_integrations_cli(app)
