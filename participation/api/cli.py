"""`flask api …`: the organizations' API keys and the idempotency store."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from participation.api.models import ApiKey
from participation.api.oauth.cli import list_apps_command, register_app_command
from participation.api.tasks import sweep_idempotent_requests
from participation.core.db import utcnow
from participation.extensions import db

api_cli = AppGroup("api", help="API платформы: ключи организаций, приложения жителей")
api_cli.add_command(register_app_command)
api_cli.add_command(list_apps_command)


@api_cli.command("keys")
def keys_command() -> None:
    """Действующие ключи API всех организаций (начало ключа, организация, срок)."""
    now = utcnow()
    query = (
        sa.select(ApiKey)
        .where(ApiKey.revoked_at.is_(None), ApiKey.expires_at > now)
        .order_by(ApiKey.organization_id, ApiKey.id)
    )
    for key in db.session.scalars(query):
        click.echo(
            f"{key.prefix}\t{key.organization.display_name}\t{key.name}\t{key.scopes}\t"
            f"до {key.expires_at:%Y-%m-%d %H:%M} UTC"
        )


@api_cli.command("purge-idempotency")
def purge_command() -> None:
    """Удалить сохранённые ответы Idempotency-Key старше API_IDEMPOTENCY_HOURS."""
    removed = sweep_idempotent_requests()
    db.session.commit()
    click.echo(f"Удалено записей: {removed}")
