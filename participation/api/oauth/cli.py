"""`flask api register-app` / `list-apps`: residents' mobile apps (OAuth public clients); the
commands join the `api` group of participation/api/cli.py."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from participation.api.oauth.scopes import SCOPES
from participation.api.oauth.services import list_apps, register_app
from participation.core.errors import DomainError
from participation.extensions import db


@click.command("register-app")
@with_appcontext
@click.argument("name")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="Адрес возврата (можно несколько): ru.participation.app:/oauth, https://…, "
    "http://127.0.0.1/… (порт любой)",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(list(SCOPES)),
    help="Область доступа (можно несколько); по умолчанию все",
)
@click.option("--client-id", default=None, help="Свой client_id (по умолчанию случайный)")
def register_app_command(
    name: str, redirect_uris: tuple[str, ...], scopes: tuple[str, ...], client_id: str | None
) -> None:
    """Register a mobile app: a public client with PKCE, no secret; prints its client_id."""
    try:
        client = register_app(name, list(redirect_uris), list(scopes) or None, client_id)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Приложение «{client.name}» зарегистрировано.")
    click.echo(f"client_id: {client.client_id}")
    click.echo(f"Адреса возврата: {', '.join(client.redirect_uris)}")
    click.echo(f"Области доступа: {client.scope}")


@click.command("list-apps")
@with_appcontext
def list_apps_command() -> None:
    """List the registered apps with their client_id, redirect URIs and scopes."""
    apps = list_apps()
    if not apps:
        click.echo("Приложений нет.")
    for client in apps:
        state = "" if client.is_active else " (отключено)"
        click.echo(f"{client.client_id}\t{client.name}{state}\t{' '.join(client.redirect_uris)}")
