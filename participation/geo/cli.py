"""`flask geo …`: territories' boundaries imported from a GeoJSON file."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from participation.extensions import db
from participation.geo.services import features_of, import_boundaries, shapes

geo_cli = AppGroup("geo", help="География: границы территорий")


@geo_cli.command("import-boundaries")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Только показать сопоставление, ничего не сохранять.")
def import_boundaries_command(path: str, dry_run: bool) -> None:
    """Границы территорий из GeoJSON (FeatureCollection с Polygon / MultiPolygon).

    Объект сопоставляется с территорией по ОКТМО (свойство oktmo, ref:oktmo или oktmo:user),
    иначе по названию (name, name:ru, official_name). Граница заменяет прежнюю; территории без
    центра получают его внутри границы. Код выхода 1, если ничего не сопоставлено.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            features = features_of(json.load(handle))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"Файл не читается как JSON в UTF-8: {exc}") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    lines = import_boundaries(features)
    matched = [line for line in lines if line.territory is not None]
    for line in lines:
        if line.territory is not None:
            note = " (геометрия исправлена)" if line.repaired else ""
            click.echo(f"  ✓ {line.label} → {line.territory.name} [{line.territory.oktmo}]{note}")
        else:
            click.echo(f"  ✗ {line.label}: {line.reason}")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        shapes.clear()
    verb = "сопоставлено бы" if dry_run else "сохранено"
    click.echo(
        f"Объектов: {len(lines)}; {verb}: {len(matched)}; не сопоставлено: "
        f"{len(lines) - len(matched)}."
    )
    if not matched:
        raise SystemExit(1)
