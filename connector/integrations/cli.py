"""Commands of the integrations: generate the Zapier and Make apps from the catalog; SuperSaaS inbound URLs."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..services import accounts, supersaas, utcnow
from ..services.errors import ServiceError
from . import files, make, zapier

integrations = AppGroup("integrations", help="The Zapier and Make apps, generated from the catalog.")


def generated() -> dict[str, str]:
    """Every generated file of both apps."""
    return {**zapier.files(), **make.files()}


@integrations.command("generate")
@click.option("--check", is_flag=True, help="Write nothing; fail if a committed file differs from the catalog.")
def generate(check: bool) -> None:
    """Write integrations/zapier/generated/ and integrations/make/ from the catalog."""
    if check:
        stale = files.stale(generated())
        if stale:
            raise click.ClickException("out of date (run `flask --app wsgi integrations generate`):\n  " + "\n  ".join(stale))
        click.echo("integrations are up to date")
        return
    for path in files.write(generated()):
        click.echo(f"wrote {path}")


supersaas_cli = AppGroup("supersaas", help="SuperSaaS compatibility.")


@supersaas_cli.command("inbound-url")
@click.argument("account")
@click.option("--base-url", required=True, help="Where SuperSaaS reaches the connector, e.g. https://connector.example.com")
def inbound_url(account: str, base_url: str) -> None:
    """A new secret URL for the account's SuperSaaS webhooks (the previous one stops working); the URL is the last line."""
    with current_app.extensions["connector.db"].session() as session:
        try:
            account_id = accounts.get_account(session, account).id
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        token = supersaas.issue_inbound_token(session, account_id, utcnow())
    click.echo(f"SuperSaaS webhook URL of {account!r} (shown this once; enter it for every trigger in SuperSaaS):", err=True)
    click.echo(f"{base_url.rstrip('/')}/supersaas/{token}")


def init_integrations_cli(app: Flask) -> None:
    for group in (integrations, supersaas_cli):
        app.cli.add_command(group)
