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
    votes = sweep_vote_reminders()
    click.echo(
        f"Напоминания о голосованиях: получили {votes['reminded']}, "
        f"отозвано отложенных писем {votes['withdrawn']}."
    )
    news = sweep_announcements()
    click.echo(
        f"Анонсы: о голосованиях {news['votes']}, об опросах {news['surveys']}, "
        f"об обсуждениях {news['hearings']}."
    )
