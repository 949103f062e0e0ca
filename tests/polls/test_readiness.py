"""Surveys of an organization whose survey readiness is not confirmed: closed, unpublishable."""

from __future__ import annotations

import pytest

from participation.backoffice.readiness import POLLS
from participation.core.errors import DomainError
from participation.core.organizations import OrganizationKind
from participation.core.users import Membership, Role
from participation.extensions import db
from participation.polls import services
from participation.polls.models import QuestionKind as K
from tests import factories
from tests.polls.conftest import as_user, build_survey, q


def test_a_survey_of_an_unconfirmed_organization_cannot_be_published(world):
    survey = build_survey(world, [q(K.TEXT, "Что-нибудь")], published=False)
    factories.unconfirm(world.org, POLLS)
    assert "не подтверждена готовность организации к проведению опросов" in "; ".join(
        services.publication_problems(survey)
    )
    with pytest.raises(DomainError):
        services.publish_survey(survey)
    assert survey.published_at is None


def test_the_cabinet_hides_only_the_unconfirmed_organizations_surveys(client, world):
    closed = factories.organization(
        OrganizationKind.MUNICIPAL, territory_=world.other_city, name="Администрация Бирска"
    )
    publisher = world.publisher  # publishes for both organizations
    db.session.add(
        Membership(user_id=publisher.id, organization_id=closed.id, role=Role.AUTHORIZED)
    )
    db.session.flush()
    open_survey = build_survey(world, [q(K.TEXT, "Открытый")], published=False)
    closed_survey = build_survey(world, [q(K.TEXT, "Закрытый")], published=False, org=closed)
    closed_survey.title = "Опрос Бирска"
    factories.unconfirm(closed, POLLS)
    as_user(client, publisher)

    page = client.get("/polls/manage").get_data(as_text=True)
    assert "Опрос о городе" in page and "Опрос Бирска" not in page
    assert "Раздел «Опросы» откроется после подтверждения готовности организации" in page
    assert "Администрация Бирска" in page
    response = client.get(f"/polls/manage/{closed_survey.id}")
    assert response.status_code == 403
    assert "Раздел «Опросы» откроется" in response.get_data(as_text=True)
    assert client.get(f"/polls/manage/new?organization_id={closed.id}").status_code == 403
    assert client.get(f"/polls/manage/{open_survey.id}").status_code == 200


def test_with_no_confirmed_organization_the_cabinet_shows_the_reason(client, world):
    factories.unconfirm(world.org, POLLS)
    as_user(client, world.publisher)
    response = client.get("/polls/manage")
    assert response.status_code == 403
    assert "Раздел «Опросы» откроется после подтверждения готовности" in response.get_data(
        as_text=True
    )
