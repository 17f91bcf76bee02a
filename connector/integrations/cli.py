"""flask integrations generate: write (or, with --check, compare) the Zapier and Make apps' generated files."""

from __future__ import annotations

import click
from flask.cli import AppGroup

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
