"""`flask esia …`: register client systems with the ESIA emulator, export its public key."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from participation.extensions import db

esia_cli = AppGroup("esia", help="ЕСИА: эмулятор для разработки и его ключи")


def _require_emulator() -> None:
    if not current_app.config["ESIA_EMULATOR"]:
        raise click.ClickException("Эмулятор ЕСИА выключен (ESIA_EMULATOR=false)")


@esia_cli.command("register-client")
@click.argument("client_id")
@click.argument("cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Разрешённый адрес возврата (можно несколько); "
    "по умолчанию PUBLIC_BASE_URL/login/callback",
)
def register_client_command(client_id: str, cert: Path, redirect_uris: tuple[str, ...]) -> None:
    """Зарегистрировать систему CLIENT_ID с сертификатом CERT (PEM) в эмуляторе ЕСИА."""
    _require_emulator()
    from participation.auth.emulator.services import register_client

    uris = list(redirect_uris) or [f"{current_app.config['PUBLIC_BASE_URL']}/login/callback"]
    try:
        client = register_client(client_id, cert.read_text(), uris)
    except ValueError as exc:
        raise click.ClickException(f"{cert}: не удалось прочитать сертификат PEM ({exc})") from None
    db.session.commit()
    click.echo(f"Система {client.client_id} зарегистрирована; адреса возврата:")
    for uri in client.redirect_uris:
        click.echo(f"  {uri}")


@esia_cli.command("export-key")
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export_key_command(out: Path | None) -> None:
    """Вывести открытый ключ подписи маркеров эмулятора (PEM) или записать его в файл OUT."""
    _require_emulator()
    from participation.auth.emulator.keys import emulator_public_pem

    pem = emulator_public_pem(current_app._get_current_object())
    if out is None:
        click.echo(pem.decode(), nl=False)
        return
    out.write_bytes(pem)
    click.echo(f"Открытый ключ записан в {out}")
