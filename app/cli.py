"""`flask` commands: database upgrade and operational sweeps.

Every operational command exits non-zero and names the shop when any shop's work failed, so
the scheduler that runs it (cron) can tell; `--now` takes ISO 8601 with or without an offset.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask

from app.db import parse_utc


class Instant(click.ParamType):
    """An ISO 8601 time (`2027-01-06T08:00:00Z`, `…+02:00`, or naive UTC) as naive UTC."""

    name = "ISO-8601 time"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_utc(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time such as 2027-01-06T08:00:00Z",
                      param, ctx)


NOW = click.option("--now", type=Instant(), default=None,
                   help="ISO 8601 time to run as, with or without offset (default: now, UTC).")


def _fail_for_shops(what: str, failed: dict[str, str]) -> None:
    """Exit 1 naming every shop whose work failed (and why), after the rest was done."""
    reasons = "; ".join(f"{domain} ({reason})" if reason else domain
                        for domain, reason in failed.items())
    raise click.ClickException(f"{what} failed for {len(failed)} shop(s): {reasons}")


def register_commands(app: Flask) -> None:
    """Attach the app's CLI commands."""
    from app.import_cli import register_import_commands

    register_import_commands(app)

    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply Alembic migrations up to head."""
        from app.migrate import upgrade_head

        runtime = app.extensions["runtime"]
        upgrade_head(runtime.settings.database_url)
        click.echo("database at head")

    @app.cli.command("sweep-inbox")
    @click.option("--older-than", default=60, show_default=True,
                  help="Only events received (Flow triggers written) at least this many "
                       "seconds ago.")
    def sweep_inbox_command(older_than: int) -> None:
        """Re-enqueue webhook events that were stored but never processed, and Flow triggers
        whose job was lost or cut short (schedule it every few minutes)."""
        from app.pipeline.jobs import sweep_flow_triggers, sweep_inbox

        runtime = app.extensions["runtime"]
        click.echo(f"re-enqueued {sweep_inbox(runtime, older_than)} event(s)")
        click.echo(f"re-enqueued {sweep_flow_triggers(runtime, older_than)} flow trigger(s)")

    @app.cli.command("daily-round")
    @NOW
    def daily_round_command(now: datetime | None) -> None:
        """Run every installed shop's daily round: unlocks, expiry, referrals, birthdays, tiers."""
        from app.pipeline.jobs import daily_rounds_for_all_shops

        run = daily_rounds_for_all_shops(app.extensions["runtime"],
                                         now.isoformat() if now else None)
        for domain, summary in run.done.items():
            click.echo(f"{domain}: {summary}")
        click.echo(f"daily round done for {len(run.done)} shop(s)")
        if run.failed:
            _fail_for_shops("daily round", run.failed)

    @app.cli.command("run-due")
    @NOW
    def run_due_command(now: datetime | None) -> None:
        """Send the engagement messages that are due (schedule it every few minutes)."""
        from app.pipeline.jobs import send_due_messages

        summary, failed = send_due_messages(app.extensions["runtime"],
                                            now.isoformat() if now else None)
        click.echo(summary)
        if failed:
            _fail_for_shops("sending due messages", dict.fromkeys(failed, ""))

    @app.cli.command("bill-usage")
    @NOW
    def bill_usage_command(now: datetime | None) -> None:
        """Charge the usage of every closed billing period of each shop's paid plan, once
        (schedule it daily; a period is charged after it closes)."""
        from app.pipeline.billing import charge_all_shops

        done, failed = charge_all_shops(app.extensions["runtime"], now)
        for domain, summary in done.items():
            click.echo(f"{domain}: {summary}")
        if failed:
            _fail_for_shops("billing usage", failed)
