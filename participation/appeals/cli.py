"""`flask appeals …`: routing rules, a region's postponement limit, the deadline sweep, loading
the classifier from a CSV file."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from participation.appeals.classifier import subcategory_by_code
from participation.appeals.classifier_import import ClassifierFileError, import_classifier
from participation.appeals.models import RoutingRule
from participation.appeals.routing import add_routing_rule
from participation.appeals.services import max_postponement_days, set_max_postponement_days
from participation.appeals.tasks import sweep_appeal_deadlines
from participation.core.errors import FieldError
from participation.core.organizations import Organization
from participation.core.territories import territory_by_oktmo
from participation.extensions import db

appeals_cli = AppGroup("appeals", help="Сообщения жителей")


def _territory(oktmo: str):
    territory = territory_by_oktmo(oktmo)
    if territory is None:
        raise click.BadParameter(f"нет территории с ОКТМО {oktmo}", param_hint="OKTMO")
    return territory


@appeals_cli.command("route")
@click.argument("subcategory_code")
@click.argument("oktmo")
@click.argument("organization_id", type=int)
def route_command(subcategory_code: str, oktmo: str, organization_id: int) -> None:
    """Направлять сообщения темы SUBCATEGORY_CODE с территории OKTMO в организацию."""
    subcategory = subcategory_by_code(subcategory_code)
    if subcategory is None:
        raise click.BadParameter(f"нет подкатегории {subcategory_code}", param_hint="SUBCATEGORY")
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise click.BadParameter(f"нет организации {organization_id}", param_hint="ORGANIZATION")
    add_routing_rule(subcategory.id, _territory(oktmo), organization)
    db.session.commit()
    click.echo(f"{subcategory.name} × {oktmo} → {organization.display_name}")


@appeals_cli.command("rules")
def rules_command() -> None:
    """Показать правила маршрутизации."""
    rules = db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.id))
    for rule in rules:
        click.echo(
            f"{rule.subcategory.code:40} {rule.territory.oktmo:11} {rule.organization.display_name}"
        )


@appeals_cli.command("postponement-limit")
@click.argument("oktmo")
@click.argument("days", type=int, required=False)
def postponement_limit_command(oktmo: str, days: int | None) -> None:
    """Показать или задать, на сколько дней регион OKTMO разрешает отложить ответ."""
    region = _territory(oktmo)
    if days is not None:
        try:
            set_max_postponement_days(region, days)
        except FieldError as exc:
            raise click.BadParameter(str(exc.message)) from None
        db.session.commit()
    click.echo(f"{region.name}: не более {max_postponement_days(region)} дней")


@appeals_cli.command("sweep")
def sweep_command() -> None:
    """Один проход проверки сроков (обычно его делает `flask jobs sweep`)."""
    result = sweep_appeal_deadlines()
    db.session.commit()
    click.echo(
        f"просрочено: {result['overdue']}, скоро срок: {result['soon_due']}, "
        f"закрыто без оценки: {result['closed_unrated']}"
    )


@appeals_cli.command("import-classifier")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Показать изменения, ничего не меняя.")
def import_classifier_command(path: str, dry_run: bool) -> None:
    """Загрузить классификатор тем из CSV-файла PATH (все изменения или ни одного)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        plan = import_classifier(data, dry_run=dry_run, source=path)
    except ClassifierFileError as exc:  # raised before anything is changed
        for error in exc.errors:
            click.echo(error, err=True)
        click.echo("Классификатор не изменён.", err=True)
        raise SystemExit(1) from None
    except Exception:
        db.session.rollback()
        raise
    for line in plan.lines():
        click.echo(line)
    if dry_run:  # nothing was changed; the session ends with the command
        click.echo(f"Пробный запуск, ничего не изменено: {plan.summary()}")
    else:
        db.session.commit()
        click.echo(f"Классификатор загружен: {plan.summary()}")
