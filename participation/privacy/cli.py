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


UNITS = {"years": ("год", "года", "лет"), "days": ("день", "дня", "дней")}


def _term(value: int, unit: str) -> str:
    """«1 год», «3 года», «5 лет», «365 дней»."""
    one, few, many = UNITS[unit]
    if value % 10 == 1 and value % 100 != 11:
        word = one
    elif 2 <= value % 10 <= 4 and not 12 <= value % 100 <= 14:
        word = few
    else:
        word = many
    return f"{value} {word}"


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Только показать, что будет обезличено")
def purge_command(dry_run: bool) -> None:
    """Обезличить персональные данные, срок хранения которых истёк."""
    labels = {kind.name: kind.label for kind in KINDS}
    term_of = {kind.name: _term(value, kind.term.unit) for kind, value in terms()}
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
