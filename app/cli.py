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

    @app.cli.command("sweep-inbox")
    @click.option("--older-than", default=60, show_default=True,
                  help="Only events received at least this many seconds ago.")
    def sweep_inbox_command(older_than: int) -> None:
        """Re-enqueue webhook events that were stored but never processed."""
        from app.jobs import sweep_inbox

        click.echo(f"re-enqueued {sweep_inbox(older_than)} event(s)")

    @app.cli.command("daily-round")
    @click.option("--now", default=None, help="ISO time to run as (default: now, UTC).")
    def daily_round_command(now: str | None) -> None:
        """Run every installed shop's daily round: unlocks, expiry, referrals, birthdays, tiers."""
        from app.jobs import daily_rounds_for_all_shops

        click.echo(f"daily round queued for {daily_rounds_for_all_shops(now)} shop(s)")

    @app.cli.command("run-due")
    @click.option("--now", default=None, help="ISO time to run as (default: now, UTC).")
    def run_due_command(now: str | None) -> None:
        """Send the engagement messages that are due (schedule it every few minutes)."""
        from app.jobs import run_due_messages

        click.echo(run_due_messages(now))
