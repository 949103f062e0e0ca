"""A small region for widget tests: a city administration and a school with their widgets,
the operator's moderator, topics with routing rules, residents; helpers that act as the
widget's iframe (a client without the platform's cookies) and as the login popup."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from participation.appeals.classifier import Category, Subcategory
from participation.appeals.routing import add_routing_rule
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.extensions import db
from participation.widgets import services
from participation.widgets.models import WidgetKind
from tests import factories as f
from tests.helpers import login_as

_codes = itertools.count(1)
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
TICKET = re.compile(r'data-ticket="([^"]+)"')


def _topic(category: Category, name: str) -> Subcategory:
    n = next(_codes)
    row = Subcategory(category=category, code=f"wtest.sub{n}", name=name, position=n)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture(autouse=True)
def _empty_view_buffer(app):
    """Views buffered in Redis by an earlier test must not land in this one's counters."""
    if app.config["REDIS_URL"]:
        from participation.core.jobs import redis_connection

        redis = redis_connection(app.config["REDIS_URL"])
        keys = list(redis.scan_iter(f"{services.VIEW_BUFFER}*"))
        if keys:
            redis.delete(*keys)


def flush_views() -> None:
    """What the sweep does: buffered views (with Redis) into the counters."""
    services.flush_views()
    db.session.commit()


@pytest.fixture
def world(db_session):
    w = SimpleNamespace()
    w.country = f.territory(L.COUNTRY, timezone="Europe/Moscow")
    w.region = f.territory(L.REGION, parent=w.country, name="Республика Тест")
    w.city = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Тестовск")
    w.town = f.territory(L.URBAN_OKRUG, parent=w.region, name="город Соседний")
    w.operator = f.organization(K.OPERATOR, w.country, name="Оператор ПОС")
    w.government = f.organization(K.REGIONAL, w.region, name="Правительство Республики Тест")
    w.cur = f.organization(K.REGIONAL_CENTRE, w.region, name="ЦУР Республики Тест")
    w.city_admin = f.organization(K.MUNICIPAL, w.city, name="Администрация г. Тестовска")
    w.school = f.organization(K.INSTITUTION, w.city, name="Школа № 1 г. Тестовска")
    w.town_admin = f.organization(K.MUNICIPAL, w.town, name="Администрация г. Соседнего")
    w.moderator = f.staff(w.operator, Role.MODERATOR, last_name="Модераторова")
    w.administrator = f.staff(w.city_admin, Role.ADMINISTRATOR, last_name="Админов")
    w.coordinator = f.staff(w.city_admin, Role.COORDINATOR, last_name="Координаторов")
    w.school_admin = f.staff(w.school, Role.ADMINISTRATOR, last_name="Директорова")
    w.resident = f.user(registration_territory=w.city, last_name="Жительница")
    w.neighbour = f.user(registration_territory=w.town, last_name="Соседова")

    w.roads = Category(code=f"wtest.cat{next(_codes)}", name="Дороги (тест)", position=1)
    w.schools = Category(code=f"wtest.cat{next(_codes)}", name="Школы (тест)", position=2)
    db.session.add_all([w.roads, w.schools])
    db.session.flush()
    w.potholes = _topic(w.roads, "Ямы и выбоины (тест)")
    w.lights = _topic(w.roads, "Освещение (тест)")
    w.school_food = _topic(w.schools, "Питание в школе (тест)")
    add_routing_rule(w.potholes.id, w.city, w.city_admin)
    add_routing_rule(w.lights.id, w.city, w.city_admin)
    add_routing_rule(w.school_food.id, w.city, w.school)
    db.session.flush()
    return w


def enable(organization, admin, kind: WidgetKind = WidgetKind.MESSAGE, site_url=None) -> str:
    """Settings saved and a code generated, as the administrator does on the admin page."""
    services.save_settings(
        organization,
        admin,
        kind=kind,
        design=services.default_design(organization),
        site_url=site_url,
    )
    return services.generate_code(organization, admin)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a widget page (the first of each name)."""
    found: dict[str, str] = {}
    for name, value in HIDDEN.findall(html):
        found.setdefault(name, value)
    return found


@dataclass
class Frame:
    """The widget's iframe: a client of its own (no platform cookies), the current page."""

    client: object
    code: str
    html: str = ""
    status: int = 0

    def open(self, origin: str | None = "https://school1.example.ru", **headers):
        query = {"origin": origin} if origin is not None else {}
        response = self.client.get(f"/widget/{self.code}", query_string=query, headers=headers)
        self.html, self.status = response.get_data(as_text=True), response.status_code
        return response

    @property
    def fields(self) -> dict[str, str]:
        return hidden_fields(self.html)

    def post(self, path: str, data: dict | None = None, **kw):
        """Post a form of the current page: its CSRF and widget tokens go along."""
        fields = {
            k: v for k, v in self.fields.items() if k in {"csrf_token", "widget_token", "site"}
        }
        form = {**fields, **(data or {})}
        response = self.client.post(f"/widget/{self.code}{path}", data=form, **kw)
        self.html, self.status = response.get_data(as_text=True), response.status_code
        return response


def popup_ticket(app, user, code: str, challenge: str) -> str:
    """The ticket the login popup hands to the widget (a first-party client, logged in)."""
    popup = app.test_client()
    login_as(popup, user)
    # already logged in on the platform: the popup asks, the person confirms
    response = popup.get(
        f"/widget/{code}/login", query_string={"challenge": challenge, "confirm": "1"}
    )
    assert response.status_code == 200, response.status_code
    return TICKET.search(response.get_data(as_text=True)).group(1)


def log_in(app, frame: Frame, user, origin: str | None = "https://school1.example.ru") -> Frame:
    """Open the widget, log in through the popup, post the ticket back: the widget's flow."""
    frame.open(origin)
    fields = frame.fields
    challenge = services.login_challenge(fields["verifier"])
    ticket = popup_ticket(app, user, frame.code, challenge)
    frame.post(
        "/session", {"verifier": fields["verifier"], "ticket": ticket, "site": fields["site"]}
    )
    assert frame.status == 200, frame.html[:2000]
    assert "widget_token" in frame.fields
    return frame


@pytest.fixture
def frame_for(app):
    def make(code: str) -> Frame:
        return Frame(client=app.test_client(), code=code)

    return make


def open_survey(world=None, organization=None, territory=None, title="Какой парк благоустроить?"):
    """A published, open survey with one required single-choice question."""
    from datetime import timedelta

    from participation.core.db import utcnow
    from participation.polls import services as polls
    from participation.polls.models import QuestionKind

    organization = organization or world.city_admin
    author = f.staff(organization, Role.AUTHORIZED, last_name="Опросов")
    now = utcnow()
    survey = polls.create_survey(
        organization,
        author,
        polls.SurveySettings(
            title=title,
            description="Короткий опрос.",
            anonymous=True,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=7),
            territory_ids=[(territory or organization.territory).id],
        ),
    )
    polls.add_question(
        survey.sections[0],
        polls.QuestionData(
            kind=QuestionKind.SINGLE,
            text="Какой парк благоустроить первым?",
            required=True,
            options=["Парк Победы", "Сквер у фонтана"],
        ),
    )
    survey.published_at = now
    db.session.flush()
    db.session.expire(survey)
    return survey


def open_campaign(world=None, organization=None, territory=None, title="Выбираем сквер"):
    """A published vote open now: choose one of two spaces."""
    from datetime import timedelta

    from participation.core.db import utcnow
    from participation.voting.models import Campaign, VotingObject

    organization = organization or world.city_admin
    now = utcnow()
    campaign = Campaign(
        organization=organization,
        territory=territory or organization.territory,
        title=title,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        published_at=now - timedelta(days=2),
        min_age=14,
    )
    campaign.objects.append(VotingObject(number=1, title="Сквер у школы"))
    campaign.objects.append(VotingObject(number=2, title="Набережная"))
    db.session.add(campaign)
    db.session.flush()
    return campaign
