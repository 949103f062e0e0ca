"""`flask hearings …`: operator commands of hearings."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from participation.extensions import db
from participation.hearings.models import Hearing


@click.command("rewind")
@click.argument("hearing_id", type=int)
@click.option(
    "--days",
    type=int,
    default=None,
    help="На сколько дней сдвинуть (по умолчанию — до закрытия приёма вчера).",
)
@with_appcontext
def rewind_command(hearing_id: int, days: int | None) -> None:
    """Сдвинуть календарь обсуждения в прошлое (только для демонстрации и разработки).

    Без --days приём замечаний оказывается закрытым со вчерашней полуночи, и можно сразу
    оформить протокол и заключение.
    """
    from participation.core.db import utcnow
    from participation.hearings.demo import rewind_hearing

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("В production календарь обсуждений менять нельзя.")
    hearing = db.session.get(Hearing, hearing_id)
    if hearing is None:
        raise click.ClickException(f"Обсуждения № {hearing_id} нет.")
    if days is None:
        days = max(1, (utcnow() - hearing.remarks_close_at).days * -1 + 1)
    try:
        rewind_hearing(hearing, days)
    except ValueError as exc:
        raise click.ClickException("Протокол уже оформлен: календарь менять нельзя.") from exc
    db.session.commit()
    click.echo(
        f"Календарь обсуждения № {hearing.id} сдвинут на {days} дн. назад; "
        f"приём замечаний закрыт {hearing.remarks_close_at:%d.%m.%Y %H:%M} UTC."
    )
