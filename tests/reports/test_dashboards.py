"""Staff dashboards: figures against a hand-made month of messages, drill-down to exactly the
messages counted, who sees what (foreign region or organization refused), bad filter input,
a bounded number of queries on the region page."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import event

from participation.appeals import services as s
from participation.core.organizations import OrganizationKind as K
from participation.core.territories import TerritoryLevel as L
from participation.core.users import Role
from participation.extensions import db
from participation.reports.rollup import rebuild, refresh_stale
from tests import factories as f
from tests.appeals.conftest import submit
from tests.helpers import login_as

MARCH = "grain=month&day=2026-03-15"
NOW = datetime(2026, 3, 28, 6, 0, tzinfo=UTC)  # 11:00 in Екатеринбург


@contextmanager
def at(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


def _answer(w, appeal, when: datetime):
    with at(when):
        s.submit_draft(appeal, w.executor, "Яму заделали, фото прилагаем.")
        s.approve_answer(appeal, w.head)


def _to_work(w, appeal, executor=None, coordinator=None):
    s.accept_appeal(appeal, w.moderator)
    s.confirm_addressee(appeal, w.cur_coordinator)
    s.assign_executor(appeal, coordinator or w.coordinator, (executor or w.executor).id)


@pytest.fixture
def month(world):
    """March 2026 in the test region: three pothole messages in Тестовск (one answered on time
    and rated 5, one answered late and rated 3, one overdue now) and one bench message in
    Соседний (in work, not due yet); a foreign region with its own staff."""
    w = world
    m = SimpleNamespace(w=w)
    with at(datetime(2026, 3, 10, 5, 0, tzinfo=UTC)):
        m.on_time = submit(w)
        m.late = submit(w)
        m.overdue = submit(w)
        m.bench = submit(w, subcategory_id=w.benches.id, territory_id=w.town.id)
        m.bench.text = "Сломана скамейка во дворе"
        for appeal in (m.on_time, m.late, m.overdue):
            _to_work(w, appeal)
        s.accept_appeal(m.bench, w.moderator)
        s.confirm_addressee(m.bench, w.cur_coordinator)
    _answer(w, m.on_time, datetime(2026, 3, 12, 6, 0, tzinfo=UTC))
    _answer(w, m.late, datetime(2026, 3, 25, 6, 0, tzinfo=UTC))  # due 20.03
    with at(datetime(2026, 3, 26, 6, 0, tzinfo=UTC)):
        s.rate_appeal(m.on_time, w.resident, 5, "Спасибо")
        s.rate_appeal(m.late, w.resident, 3, "Долго")
    # Who else looks: a curator of the regional government, the operator's coordinator,
    # and a foreign region with its ЦУР and an administration.
    m.gov_curator = f.staff(w.government, Role.CURATOR, last_name="Региональная")
    m.operator_coordinator = f.staff(w.operator, Role.COORDINATOR, last_name="Операторский")
    m.foreign_region = f.territory(L.REGION, parent=w.country, name="Чужая область")
    m.foreign_city = f.territory(L.URBAN_OKRUG, parent=m.foreign_region, name="город Чужой")
    m.foreign_cur = f.organization(K.REGIONAL_CENTRE, m.foreign_region, name="ЦУР Чужой")
    m.foreign_admin = f.organization(K.MUNICIPAL, m.foreign_city, name="Администрация Чужого")
    m.foreign_cur_coordinator = f.staff(m.foreign_cur, Role.COORDINATOR, last_name="Чужов")
    m.foreign_head = f.staff(m.foreign_admin, Role.HEAD, last_name="Чужой-Глава")
    with at(NOW):
        refresh_stale()
        rebuild()
    db.session.flush()
    return m


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def _page(client, user, url, status=200):
    login_as(client, user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _card(html: str, name: str) -> re.Match:
    card = re.search(
        rf'<h3 class="figure-name">{re.escape(name)}</h3>\s*'
        r'<p class="figure-value"><a href="([^"]+)"[^>]*>([^<]+)</a>',
        html,
    )
    assert card, f"no figure «{name}»"
    return card


def _figure(html: str, name: str) -> str:
    """The value shown on the figure card named `name`."""
    return _card(html, name).group(2).replace("\xa0", " ")


def _figure_link(html: str, name: str) -> str:
    """Where the figure card named `name` leads."""
    return _card(html, name).group(1).replace("&amp;", "&")


def _numbers_listed(html: str) -> set[str]:
    return set(re.findall(r"№ ([\w\-/]+)</a></th>", html))


# --- the organization's dashboard ---------------------------------------------------------------


def test_head_sees_the_organizations_figures_trend_overdue_and_worst_topics(client, month, now):
    m, w = month, month.w
    html = _page(client, w.head, f"/reports/?{MARCH}")
    assert _figure(html, "Поступило сообщений") == "3"
    assert _figure(html, "Дан ответ") == "2"
    assert _figure(html, "Ответ в срок") == "50,0 %"
    assert _figure(html, "Просрочено сейчас") == "1"
    assert _figure(html, "Средняя оценка") == "4"
    assert _figure(html, "Оценки 4–5") == "50,0 %"
    text = _text(html)
    # February had none: the change is said in words, with an arrow.
    assert "▲ +3 к прошлому периоду" in text
    assert "нет данных за прошлый период" in text
    # Trend: a chart and the same figures in a table.
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
    assert "Динамика по шагам периода" in text and "10.03.2026" in text
    # The overdue message, linked to its card, its term in the organization's zone.
    assert f"/backoffice/appeals/{m.overdue.id}" in html
    assert "20.03.2026 10:00" in text  # 05:00 UTC + 10 days, in Екатеринбург
    assert f"/backoffice/appeals/{m.bench.id}" not in html  # another organization's
    # Worst topics: potholes with 50 % on time and 1 overdue.
    assert re.search(r"Ямы и выбоины \(тест\).*?50,0", text)


def test_the_backoffice_home_offers_analytics_to_the_roles_that_see_it(client, month, now):
    w = month.w
    assert "Аналитика" in _page(client, w.head, "/backoffice/")
    assert "Аналитика" not in _page(client, w.executor, "/backoffice/")
    _page(client, w.executor, "/reports/", status=404)


# --- the region, drill-down ---------------------------------------------------------------------


def test_cur_sees_municipalities_then_organizations_then_messages(client, month, now):
    m, w = month, month.w
    html = _page(client, w.cur_coordinator, f"/reports/region?{MARCH}")
    text = _text(html)
    assert "город Тестовск" in text and "город Соседний" in text
    row = re.search(r"город Тестовск</a>\s*</th>(.*?)</tr>", html, re.S).group(1)
    assert [_text(c).split(" ")[0] for c in re.findall(r"<td>(.*?)</td>", row, re.S)][:4] == [
        "3",
        "2",
        "50,0",
        "1",
    ]
    # The municipality's organizations, each linked to its dashboard.
    html = _page(client, w.cur_coordinator, f"/reports/region?{MARCH}&municipality={w.city.id}")
    assert "Администрация г. Тестовска" in html
    assert f"/reports/organization/{w.city_admin.id}" in html
    _page(client, w.cur_coordinator, f"/reports/organization/{w.city_admin.id}?{MARCH}")
    # Every figure links to exactly the messages it counts.
    behind = r'href="(/reports/messages\?[^"]*indicator=(\w+)[^"]*)"'
    links = {code: href.replace("&amp;", "&") for href, code in re.findall(behind, html)}
    listed = _numbers_listed(_page(client, w.cur_coordinator, links["received"]))
    assert listed == {m.on_time.number, m.late.number, m.overdue.number}
    listed = _numbers_listed(_page(client, w.cur_coordinator, links["overdue_now"]))
    assert listed == {m.overdue.number}


def test_every_dashboard_figure_lists_exactly_its_messages(client, month, now):
    m, w = month, month.w
    html = _page(client, w.head, f"/reports/?{MARCH}")
    expected = {
        "Поступило сообщений": {m.on_time, m.late, m.overdue},
        "Дан ответ": {m.on_time, m.late},
        "Ответ в срок": {m.on_time, m.late},  # a share lists its denominator
        "Просрочено сейчас": {m.overdue},
        "В работе сейчас": {m.overdue},
        "Средняя оценка": {m.on_time, m.late},
    }
    for name, appeals in expected.items():
        listed = _numbers_listed(_page(client, w.head, _figure_link(html, name)))
        assert listed == {a.number for a in appeals}, name
    # A share lists its denominator and marks which messages its numerator counts.
    html = _page(client, w.head, f"/reports/messages?indicator=answered_on_time_share&{MARCH}")
    assert '<th scope="col">Ответ в срок</th>' in html
    marks = dict(re.findall(r"№ ([\w\-/]+)</a></th>.*?<td>(да|нет)</td></tr>", html, re.S))
    assert marks == {m.on_time.number: "да", m.late.number: "нет"}


def test_hotspots_show_top_topics_growth_and_the_heat_matrix(client, month, now):
    w = month.w
    html = _page(client, w.cur_coordinator, f"/reports/hotspots?{MARCH}")
    text = _text(html)
    assert re.search(r"Ямы и выбоины \(тест\) 3 0 новое", text)
    assert re.search(r"Скамейки \(тест\) 1 0 новое", text)
    matrix = html[html.index('class="heat"') :]
    assert re.search(r"город Тестовск</th>\s*<td class=\"heat-5\"><a [^>]*>3</a>", matrix)
    assert "Территории и категории" in text
    # April against March: fewer potholes, said as a fall.
    html = _page(client, w.cur_coordinator, "/reports/hotspots?grain=month&day=2026-04-02")
    assert "За период сообщений нет." in html


# --- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "region_page"),
    [
        ("cur_coordinator", 200),
        ("gov_curator", 200),
        ("operator_coordinator", 200),
        ("head", 404),
        ("coordinator", 404),
        ("gov_coordinator", 404),  # a regional body's coordinator: its tree only
        ("foreign_cur_coordinator", 200),  # their own region
    ],
)
def test_region_page_per_role(client, month, now, who, region_page):
    m, w = month, month.w
    user = getattr(m, who, None) or getattr(w, who)
    html = _page(client, user, f"/reports/region?{MARCH}", status=region_page)
    if region_page == 200 and who != "foreign_cur_coordinator":
        assert "город Тестовск" in html
    if who == "foreign_cur_coordinator":
        assert "город Тестовск" not in html


def test_foreign_region_and_organization_are_refused(client, month, now, caplog):
    m, w = month, month.w
    # Another region asked for by id: refused at the field, no figures.
    html = _page(client, m.foreign_cur_coordinator, f"/reports/region?{MARCH}&region={w.region.id}")
    assert "Этот регион вам недоступен или его нет." in html
    assert "Муниципальные образования" not in html
    # Another organization's dashboard: 404, logged.
    with caplog.at_level("WARNING", logger="participation.access"):
        _page(client, m.foreign_head, f"/reports/organization/{w.city_admin.id}", status=404)
        _page(client, w.head, f"/reports/organization/{w.town_admin.id}", status=404)
        _page(client, m.foreign_cur_coordinator, f"/reports/organization/{w.city_admin.id}", 404)
    assert caplog.text.count("access denied") == 3
    # A head may open the dashboard of the school below them.
    _page(client, w.head, f"/reports/organization/{w.school.id}?{MARCH}")
    # Messages behind a figure of another organization: refused at the field.
    html = _page(
        client,
        w.head,
        f"/reports/messages?indicator=received&{MARCH}&organization={w.town_admin.id}",
    )
    assert "Такой организации нет среди доступных вам." in html
    assert f"№ {m.bench.number}<" not in html
    # Without an organization, a head's list keeps to their tree.
    html = _page(client, w.head, f"/reports/messages?indicator=received&{MARCH}")
    assert _numbers_listed(html) == {m.on_time.number, m.late.number, m.overdue.number}
    # The operator sees every region; the regional curator their own.
    _page(client, m.operator_coordinator, f"/reports/region?{MARCH}&region={m.foreign_region.id}")
    html = _page(client, m.gov_curator, f"/reports/region?{MARCH}&region={m.foreign_region.id}")
    assert "Этот регион вам недоступен или его нет." in html


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("grain=range&start=2026-03-10&end=2026-03-01", "Дата окончания раньше даты начала."),
        ("grain=range&start=2019-01-01&end=2026-03-01", "Период не может быть длиннее 5 лет."),
        ("grain=range&start=&end=2026-03-01", "Для своих дат укажите дату начала."),
        ("grain=month&day=31.02.2026", "Введите дату в формате ДД.ММ.ГГГГ."),
        ("grain=range&start=вчера&end=2026-03-01", "Введите дату в формате ДД.ММ.ГГГГ."),
        ("municipality=999999", "Такого муниципального образования нет среди доступных вам."),
        ("municipality=abc", "Такого муниципального образования нет среди доступных вам."),
        ("organization=999999", "Такой организации нет среди доступных вам."),
        ("category=999999", "Такой категории нет."),
        ("channel=pigeon", "Выберите источник из списка."),
        ("grain=century", "Выберите период из списка."),
    ],
)
def test_bad_filter_input_is_said_next_to_the_field_and_nothing_is_counted(
    client, month, now, query, message
):
    w = month.w
    for url in ("/reports/", "/reports/region", "/reports/hotspots"):
        user = w.head if url == "/reports/" else w.cur_coordinator
        html = _page(client, user, f"{url}?{query}")
        assert message in html, url
        assert 'class="error-text"' in html and "Проверьте форму" in html
        assert "figure-value" not in html and "Муниципальные образования" not in html
        assert "Самые частые подкатегории" not in html


def test_a_foreign_municipality_is_refused(client, month, now):
    m = month
    html = _page(
        client, m.w.cur_coordinator, f"/reports/region?{MARCH}&municipality={m.foreign_city.id}"
    )
    assert "Такого муниципального образования нет среди доступных вам." in html


def test_unknown_indicator_is_not_found(client, month, now):
    _page(client, month.w.head, f"/reports/messages?indicator=nonsense&{MARCH}", status=404)


# --- queries ------------------------------------------------------------------------------------


@contextmanager
def count_queries():
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def test_region_page_queries_do_not_grow_with_municipalities_or_messages(client, month, now):
    w = month.w
    login_as(client, w.cur_coordinator)
    url = f"/reports/region?{MARCH}"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for i in range(6):
        town = f.territory(L.URBAN_OKRUG, parent=w.region, name=f"город Новый-{i}")
        f.organization(K.MUNICIPAL, town, name=f"Администрация Нового-{i}", parent=w.government)
        with at(datetime(2026, 3, 11, 5, 0, tzinfo=UTC)):
            submit(w, subcategory_id=w.benches.id, territory_id=town.id)
    with at(NOW):
        rebuild()
    client.get(url)  # the new territories and organizations reload the kept names once
    with count_queries() as many:
        response = client.get(url)
    assert response.status_code == 200
    assert "город Новый-5" in response.get_data(as_text=True)
    assert len(many) == len(few), "the number of queries must not grow with the rows shown"
    assert len(many) <= 26, many
