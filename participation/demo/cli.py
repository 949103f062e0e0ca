"""`flask demo seed`: load the demonstration data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from participation.demo.seed import seed_demo
from participation.extensions import db

demo_cli = AppGroup("demo", help="Демонстрационные данные")

_LABELS = {
    "territories": "территорий",
    "organizations": "организаций",
    "users": "пользователей",
    "memberships": "ролей в организациях",
    "history_appeals": "сообщений за прошедший год",
    "history_reviews": "из них повторных рассмотрений после низкой оценки",
}


@demo_cli.command("seed")
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="Год истории сообщений по региону для аналитики",
)
def seed_command(history: bool) -> None:
    """Загрузить демонстрационные данные.

    Повторный запуск ничего не добавляет и не меняет.
    """
    counts = seed_demo(history=history)
    db.session.commit()
    if not any(counts.values()):
        click.echo("Демонстрационные данные уже загружены, ничего не добавлено.")
        return
    click.echo("Добавлено:")
    for key, label in _LABELS.items():
        if key in counts:
            click.echo(f"  {label}: {counts[key]}")
