"""`flask` commands: database upgrade and operational sweeps."""

from __future__ import annotations

import click
from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach the app's CLI commands."""

    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply Alembic migrations up to head."""
        from app.migrate import upgrade_head

        runtime = app.extensions["runtime"]
        upgrade_head(runtime.settings.database_url)
        click.echo("database at head")
