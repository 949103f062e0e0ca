"""`flask reports …`: rebuild the rollup, refresh it now."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from participation.extensions import db
from participation.reports.rollup import rebuild
from participation.reports.tasks import sweep_rollup

reports_cli = AppGroup("reports", help="Аналитика и отчёты")


@reports_cli.command("rebuild")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="С какой даты (ГГГГ-ММ-ДД)"
)
def rebuild_command(since) -> None:
    """Пересчитать дневные показатели по сообщениям заново (с даты или с начала)."""
    start: date | None = since.date() if since else None
    written = rebuild(start)
    db.session.commit()
    click.echo(f"Пересчитано строк: {written}")


@reports_cli.command("refresh")
def refresh_command() -> None:
    """Пересчитать дни сообщений, изменившихся с прошлого раза."""
    click.echo(f"Обновлено сообщений: {sweep_rollup()}")
    db.session.commit()
