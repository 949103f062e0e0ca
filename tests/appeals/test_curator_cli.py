"""The curator's view and the `flask appeals` commands."""

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from participation.appeals import services as s
from participation.appeals.cli import appeals_cli
from participation.appeals.models import RoutingRule
from participation.core.db import utcnow
from participation.extensions import db
from tests.appeals.conftest import submit
from tests.appeals.test_lifecycle import to_answered, to_work
from tests.helpers import login_as


def test_curator_sees_deadlines_by_organization_low_ratings_and_returned_answers(client, world):
    w = world
    late = to_work(w, submit(w))
    returned = to_work(w, submit(w))
    s.submit_draft(returned, w.executor, "Черновик")
    s.return_draft(returned, w.head, "Дополнить фото")
    rated = to_answered(w, submit(w))
    s.rate_appeal(rated, w.resident, 1, "Ничего не сделано")
    with time_machine.travel(utcnow() + timedelta(days=11)):
        login_as(client, w.cur_curator)  # the ЦУР's curator watches the whole region
        html = client.get("/backoffice/appeals/curator").get_data(as_text=True)
    assert "Администрация г. Тестовска" in html
    row = html[html.index("Администрация г. Тестовска") :][:400]
    assert '<td class="overdue">2</td>' in row  # both open messages are past their 10 days
    assert f"№ {rated.number}</a> — 1 из 5" in html and "Ничего не сделано" in html
    assert f"№ {returned.number}</a> — в рамках организации" in html
    assert f"№ {late.number}" not in html.split("Низкие оценки")[1]


def test_curator_of_an_organization_sees_only_its_tree(client, world):
    w = world
    to_work(w, submit(w))
    s.accept_appeal(
        submit(w, subcategory_id=w.benches.id, suggested_subcategory_id=w.benches.id), w.moderator
    )
    login_as(client, w.curator)
    html = client.get("/backoffice/appeals/curator").get_data(as_text=True)
    assert "Администрация г. Тестовска" in html and "ЦУР Республики Тест" not in html


def test_cli_routes_sets_the_limit_and_sweeps(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        appeals_cli, ["route", w_code(world.marking), world.city.oktmo, str(world.school.id)]
    )
    assert result.exit_code == 0, result.output
    assert (
        db.session.scalar(
            sa.select(RoutingRule.organization_id).where(
                RoutingRule.subcategory_id == world.marking.id
            )
        )
        == world.school.id
    )
    result = runner.invoke(appeals_cli, ["postponement-limit", world.region.oktmo, "15"])
    assert result.exit_code == 0 and "не более 15 дней" in result.output
    assert s.max_postponement_days(world.region) == 15
    result = runner.invoke(appeals_cli, ["postponement-limit", world.region.oktmo, "0"])
    assert result.exit_code != 0 and "от 1 до 365" in result.output
    result = runner.invoke(appeals_cli, ["route", "no.such", world.city.oktmo, "1"])
    assert result.exit_code != 0 and "нет подкатегории" in result.output
    result = runner.invoke(appeals_cli, ["sweep"])
    assert result.exit_code == 0 and "просрочено: 0" in result.output


def w_code(subcategory):
    return subcategory.code
