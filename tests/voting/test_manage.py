"""Officials: create, edit until the first ballot, publish, close early; access is checked."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from participation.core.audit import AuditEntry
from participation.core.db import utcnow
from participation.core.errors import Conflict, FieldError
from participation.core.organizations import OrganizationKind
from participation.core.users import AccountLevel, Role
from participation.extensions import db
from participation.voting.models import BallotRule, Campaign, CampaignKind
from participation.voting.services import (
    CampaignData,
    ObjectData,
    add_object,
    cast_ballot,
    close_campaign_early,
    create_campaign,
    delete_object,
    edit_refusal,
    publish_campaign,
    update_campaign,
    update_object,
)
from tests import factories
from tests.helpers import csrf_token, login_as
from tests.voting.helpers import campaign


def data(town, **kw):
    now = utcnow().astimezone(town.city.tz).replace(tzinfo=None, second=0, microsecond=0)
    values = {
        "title": "Выбираем сквер",
        "territory_id": town.city.id,
        "opens_local": now - timedelta(hours=1),
        "closes_local": now + timedelta(days=30),
    }
    values.update(kw)
    return CampaignData(**values)


def test_rules_objects_and_eligibility_freeze_at_the_first_ballot(town):
    c = campaign(town)
    assert edit_refusal(c) is None
    update_campaign(c, town.official, data(town, title="Новое название", min_age=16))
    add_object(c, town.official, ObjectData(title="Шестой объект"))
    cast_ballot(c, town.resident(), [c.objects[0].id])

    reason = edit_refusal(c)
    assert reason and "после первого голоса" in reason
    attempts = [
        lambda: update_campaign(c, town.official, data(town, min_age=18)),
        lambda: add_object(c, town.official, ObjectData(title="Седьмой")),
        lambda: update_object(c.objects[0], town.official, ObjectData(title="Другое")),
        lambda: delete_object(c.objects[1], town.official),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="после первого голоса"):
            attempt()
    db.session.refresh(c)
    assert (c.title, c.min_age, len(c.objects)) == ("Новое название", 16, 6)
    refusals = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action == "voting.edit_refused")
    ).all()
    assert len(refusals) == 4


def test_campaign_settings_are_checked(town):
    cases = [
        ({"title": "  "}, "title", "Укажите название"),
        ({"closes_local": data(town).opens_local}, "closes_local", "позже начала"),
        ({"ballot_rule": BallotRule.APPROVAL}, "max_choices", "сколько объектов"),
        ({"ballot_rule": BallotRule.BUDGET}, "budget_limit", "бюджет"),
        ({"territory_id": town.other_city.id}, "territory_id", "территорию вашей"),
        ({"min_age": 200}, "min_age", "от 0 до 120"),
    ]
    for overrides, field, message in cases:
        with pytest.raises(FieldError, match=message) as error:
            create_campaign(town.admin, town.official, data(town, **overrides))
        assert error.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_publication_needs_a_real_choice_and_budget_costs(town):
    c = create_campaign(
        town.admin,
        town.official,
        data(town, ballot_rule=BallotRule.BUDGET, budget_limit=1000, kind=CampaignKind.BUDGET),
    )
    add_object(c, town.official, ObjectData(title="Площадка", cost=600))
    with pytest.raises(Conflict, match="хотя бы два объекта"):
        publish_campaign(c, town.official)
    with pytest.raises(FieldError, match="стоимость"):
        add_object(c, town.official, ObjectData(title="Без цены"))
    add_object(c, town.official, ObjectData(title="Фонтан", cost=5000))
    with pytest.raises(Conflict, match="дороже всего бюджета"):
        publish_campaign(c, town.official)
    update_object(c.objects[1], town.official, ObjectData(title="Фонтан", cost=900))
    publish_campaign(c, town.official)
    assert c.published_at is not None


def test_closing_early_records_the_reason_and_stops_voting(town):
    c = campaign(town)
    with pytest.raises(FieldError, match="причину"):
        close_campaign_early(c, town.official, "  ")
    close_campaign_early(c, town.official, "Ошибка в описании объектов")
    assert c.is_closed(utcnow()) and c.close_reason == "Ошибка в описании объектов"
    assert c.sealed_at is None  # sealed by the job after the commit
    with pytest.raises(Conflict, match="уже завершено"):
        close_campaign_early(c, town.official, "Ещё раз")


@pytest.mark.parametrize("role", [Role.AUTHORIZED, Role.ADMINISTRATOR])
def test_an_official_creates_a_vote_through_the_pages(town, client, role):
    official = factories.staff(town.admin, role)
    login_as(client, official)
    token = csrf_token(client, "/backoffice/voting/new")
    now = utcnow().astimezone(town.city.tz)
    response = client.post(
        "/backoffice/voting/new",
        data={
            "csrf_token": token,
            "title": "Благоустройство 2027",
            "kind": "landscaping",
            "territory_id": town.city.id,
            "opens_local": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_local": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
            "ballot_rule": "single",
            "winners_count": "1",
            "min_level": "confirmed",
            "min_age": "14",
            "show_turnout": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    c = db.session.scalar(sa.select(Campaign).where(Campaign.title == "Благоустройство 2027"))
    assert c.published_at is None and c.min_level == AccountLevel.CONFIRMED and c.min_age == 14
    local_open = c.opens_at.astimezone(town.city.tz).strftime("%H:%M")
    assert local_open == (now - timedelta(hours=1)).strftime("%H:%M")


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(town, client):
    login_as(client, town.official)
    token = csrf_token(client, "/backoffice/voting/new")
    response = client.post(
        "/backoffice/voting/new",
        data={
            "csrf_token": token,
            "title": "x" * 301,
            "kind": "landscaping",
            "territory_id": town.city.id,
            "opens_local": "вчера",
            "closes_local": "",
            "ballot_rule": "approval",
            "max_choices": "много",
            "winners_count": "0",
            "min_level": "confirmed",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for message in (
        "Не длиннее 300 символов",
        "Неверное значение даты",
        "Укажите дату и время окончания",
        "Неверное целое число",
        "От 1 до 1000",
    ):
        assert message in page, message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_officials_of_other_organizations_and_residents_get_404(town, client):
    c = campaign(town)
    draft = campaign(town, published=False, title="Черновик")
    other_admin = factories.organization(OrganizationKind.MUNICIPAL, territory_=town.other_city)
    stranger = factories.staff(other_admin, Role.AUTHORIZED)
    executor = factories.staff(town.admin, Role.EXECUTOR)
    institution = factories.organization(OrganizationKind.INSTITUTION, territory_=town.city)
    school = factories.staff(institution, Role.AUTHORIZED)
    for who in (stranger, executor, school, town.volunteer):
        login_as(client, who)
        assert client.get(f"/backoffice/voting/{c.id}").status_code == 404, who
        assert client.get(f"/backoffice/voting/{c.id}/edit").status_code == 404
        assert client.get(f"/voting/{draft.id}").status_code == 404
    login_as(client, town.resident())
    assert client.get(f"/backoffice/voting/{c.id}").status_code == 404
    assert client.get(f"/voting/{draft.id}").status_code == 404
    login_as(client, town.official)
    assert client.get(f"/voting/{draft.id}").status_code == 200


def test_editing_page_refuses_after_the_first_ballot_with_the_reason(town, client):
    c = campaign(town)
    cast_ballot(c, town.resident(), [c.objects[0].id])
    login_as(client, town.official)
    response = client.get(f"/backoffice/voting/{c.id}/edit", follow_redirects=True)
    assert "после первого голоса" in response.get_data(as_text=True)
