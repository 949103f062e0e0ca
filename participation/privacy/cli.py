"""`flask privacy …`: the retention purge of personal data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from participation.privacy.retention import KINDS, purge_personal_data, terms

privacy_cli = AppGroup("privacy", help="Персональные данные: сроки хранения и обезличивание")

COUNT_LABELS = {
    "messages": "сообщений",
    "files": "файлов",
    "named_responses": "именных ответов (связь с автором)",
    "text_answers": "текстовых ответов",
    "drafts": "черновиков",
    "participants": "участников",
    "remarks": "замечаний и предложений",
    "questions": "вопросов",
    "widget_sessions": "входов через виджеты",
    "feed_items": "уведомлений в ленте",
    "sent_emails": "отправленных писем",
}


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Только показать, что будет обезличено")
def purge_command(dry_run: bool) -> None:
    """Обезличить персональные данные, срок хранения которых истёк."""
    labels = {kind.name: kind.label for kind in KINDS}
    units = {"years": "лет", "days": "дней"}
    term_of = {kind.name: f"{value} {units[kind.term.unit]}" for kind, value in terms()}
    results = purge_personal_data(dry_run=dry_run, commit=not dry_run)
    if dry_run:
        click.echo("Пробный запуск: ничего не изменено. Будет обезличено:")
    else:
        click.echo("Обезличено:")
    for result in results:
        parts = ", ".join(f"{COUNT_LABELS[k]}: {v}" for k, v in result.counts.items())
        click.echo(
            f"  {labels[result.kind]} (срок {term_of[result.kind]}, "
            f"до {result.cutoff:%d.%m.%Y}): {parts}"
        )
