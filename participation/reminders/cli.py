"""`flask reminders send`: run the reminder and announcement sweeps once (they also run in
`flask jobs sweep`)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from participation.reminders.tasks import sweep_announcements, sweep_vote_reminders

reminders_cli = AppGroup("reminders", help="Напоминания и анонсы жителям.")


@reminders_cli.command("send")
def send_command() -> None:
    """Send the reminders and announcements that are due now."""
    click.echo(f"votes ending: {sweep_vote_reminders()}")
    click.echo(f"announcements: {sweep_announcements()}")
