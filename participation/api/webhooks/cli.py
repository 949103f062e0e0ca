"""`flask webhooks …`: run the webhook sweeps once (deadline events, due retries)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from participation.api.webhooks.tasks import announce_webhook_deadlines, retry_webhook_deliveries
from participation.extensions import db

webhooks_cli = AppGroup("webhooks", help="Вебхуки организаций")


@webhooks_cli.command("sweep")
def sweep_command() -> None:
    """Объявить сроки (due_soon, overdue) и отправить доставки, которым пора."""
    deadlines = announce_webhook_deadlines()
    db.session.commit()
    retries = retry_webhook_deliveries()
    db.session.commit()
    click.echo(
        f"Событий о сроках: {deadlines['due_soon']} (скоро срок), "
        f"{deadlines['overdue']} (просрочено); "
        f"поставлено в очередь доставок: {retries['queued']}; "
        f"закрыто без отправки: {retries['failed_paused']}"
    )
