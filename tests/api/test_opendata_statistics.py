"""Open data: the public statistics (figures, hotspots, rating, daily counts) in JSON and CSV.

The same aggregates as the «Открытая статистика» page (reports.views), from the reports'
services: a count of 1–4 or a share over fewer than 5 answers/ratings is never a number here —
`value` is null, `suppressed` true, `shown` the page's «менее 5».
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.api.opendata_helpers import assert_no_personal_data, csv_rows, problem
from tests.reports.conftest import MAY_REMARK_TEXT, fill_may, rollup
from tests.reports.conftest import w as w  # a fixture

NOW = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
MAY = "grain=month&day=2026-05-10"
REMARK_TEXT = MAY_REMARK_TEXT


@pytest.fixture
def filled(w):
    with time_machine.travel(NOW, tick=False):
        fill_may(w)
        yield w


def _get(client, path: str):
    with time_machine.travel(NOW, tick=False):
        return client.get(path)


def _figures(body: dict, section: str) -> dict[str, dict]:
    return {f["code"]: f for f in body[section]}


def test_figures_hide_small_counts_and_small_bases_with_a_flag(client, filled):
    body = _get(
        client, f"/api/v1/open/statistics/regions/{filled.region.id}/figures?{MAY}"
    ).get_json()
    assert body["period"] == {
        "start": "2026-05-01",
        "end": "2026-05-31",
        "grain": "month",
        "text": "01.05.2026 — 31.05.2026",
    }
    messages = _figures(body, "messages")
    assert messages["received"] == {
        "code": "received",
        "name": "Поступило сообщений",
        "unit": "count",
        "value": 15.0,
        "shown": "15",
        "suppressed": False,
        "counts": messages["received"]["counts"],
    }
    # Three ratings: the average and the share of 4–5 are hidden, and say why.
    for code in ("rating_avg", "rated_high_share"):
        assert messages[code]["value"] is None and messages[code]["suppressed"], code
        assert messages[code]["shown"] == "менее 5 оценок"
    assert messages["answered_on_time_share"]["value"] == pytest.approx(12 / 13)
    taking_part = _figures(body, "participation")
    assert taking_part["ballots_cast"]["shown"] == "менее 5"
    assert (
        taking_part["ballots_cast"]["value"] is None and taking_part["ballots_cast"]["suppressed"]
    )
    assert taking_part["votes_held"] == {
        **taking_part["votes_held"],
        "value": 1.0,
        "suppressed": False,
    }


def test_no_data_is_null_without_the_flag(client, filled):
    body = _get(
        client, f"/api/v1/open/statistics/regions/{filled.other_region.id}/figures?{MAY}"
    ).get_json()
    rating_avg = _figures(body, "messages")["rating_avg"]
    assert rating_avg["value"] is None and rating_avg["suppressed"] is False
    assert rating_avg["shown"] == "нет данных"


def test_hotspots_with_the_previous_period(client, filled):
    body = _get(
        client, f"/api/v1/open/statistics/regions/{filled.region.id}/hotspots?{MAY}"
    ).get_json()
    spots = {h["topic"]: h for h in body["hotspots"]}
    assert spots["Фонари (отчёт)"]["current"]["value"] == 12
    assert spots["Фонари (отчёт)"]["previous"]["value"] == 7
    potholes = spots["Ямы (отчёт)"]["current"]
    assert potholes["value"] is None and potholes["suppressed"] and potholes["shown"] == "менее 5"
    table = csv_rows(
        _get(
            client, f"/api/v1/open/statistics/regions/{filled.region.id}/hotspots?{MAY}&format=csv"
        )
    )
    assert table[0][:3] == ["Тема", "Сообщений за период", "Как на странице"]
    assert ["Фонари (отчёт)", "12", "12", "нет", "7", "7", "нет"] in table
    assert ["Ямы (отчёт)", "", "менее 5", "да", "0", "0", "нет"] in table


def test_the_rating_of_every_municipality(client, filled):
    body = _get(
        client, f"/api/v1/open/statistics/regions/{filled.region.id}/rating?{MAY}"
    ).get_json()
    names = [row["name"] for row in body["rows"]]
    assert {"город Уфимск", "Степной район", "Безадминистративный район"} <= set(names)
    assert body["default_weights"] is True
    assert sum(weight["weight"] for weight in body["weights"]) == 100
    assert body["method"] and "шкале от 0 до 1" in body["method"][0]
    city = next(row for row in body["rows"] if row["name"] == "город Уфимск")
    cells = {c["code"]: c for c in city["cells"]}
    assert cells["rating_avg"]["suppressed"] and cells["rating_avg"]["value"] is None
    assert city["place"] and city["score"] is not None
    table = csv_rows(
        _get(client, f"/api/v1/open/statistics/regions/{filled.region.id}/rating?{MAY}&format=csv")
    )
    assert table[0][:3] == ["Место", "Муниципальное образование", "Итоговый балл"]
    assert len(table) == 1 + len(body["rows"])


def test_figures_csv_for_excel(client, filled):
    table = csv_rows(
        _get(client, f"/api/v1/open/statistics/regions/{filled.region.id}/figures?{MAY}&format=csv")
    )
    assert table[0] == [
        "Раздел",
        "Код",
        "Показатель",
        "Значение",
        "Как на странице",
        "Скрыто (менее 5)",
        "Единица",
        "Что считается",
    ]
    rows = {row[1]: row for row in table[1:]}
    assert rows["received"][3:6] == ["15", "15", "нет"]
    assert rows["rating_avg"][3:6] == ["", "менее 5 оценок", "да"]


def test_daily_rows_match_the_sites_open_data_csv(client, filled):
    region = filled.region.id
    query = "start=2026-05-01&end=2026-05-31"
    site = _get(client, f"/reports/export/open-data/{region}/statistics.csv?{query}")
    ours = _get(client, f"/api/v1/open/statistics/regions/{region}/daily?{query}&format=csv")
    assert ours.get_data() == site.get_data()  # the same file, the same rules
    table = csv_rows(ours)
    assert table[0][:3] == ["Дата", "ОКТМО муниципального образования", "Муниципальное образование"]

    body = _get(client, f"/api/v1/open/statistics/regions/{region}/daily?{query}").get_json()
    assert (body["start"], body["end"]) == ("2026-05-01", "2026-05-31")
    assert body["counters"][:2] == ["received", "answered"]
    by_day = {row["day"]: row for row in body["rows"]}
    potholes = by_day["2026-05-05"]
    assert potholes["counts"]["received"] is None and "received" in potholes["suppressed"]
    assert potholes["counts"]["rated_low"] == 0 and "rated_low" not in potholes["suppressed"]
    lights = by_day["2026-05-06"]
    assert lights["counts"]["received"] == 12 and lights["counts"]["ratings"] is None
    assert lights["oktmo"] == filled.city.oktmo and lights["channel"] == "portal"
    assert len(body["rows"]) == len(table) - 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-06-10&end=2026-06-01", "query.end"),
        ("start=2015-01-01&end=2026-01-01", "query.end"),
        ("start=01.05.2026", "query.start"),
        ("end=tomorrow", "query.end"),
        ("region=1", "query.region"),
    ],
)
def test_bad_daily_periods_are_422(client, filled, query, field):
    body = problem(
        _get(client, f"/api/v1/open/statistics/regions/{filled.region.id}/daily?{query}"), 422
    )
    assert field in body["errors"], body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("grain=decade", "query.grain"),
        ("grain=week", "query.grain"),
        ("day=31.02.2026", "query.day"),
        ("day=1999-12-31", "query.day"),
        ("day=2031-01-01", "query.day"),
    ],
)
def test_bad_periods_are_422_not_a_silent_fallback(client, filled, query, field):
    for what in ("figures", "hotspots", "rating"):
        path = f"/api/v1/open/statistics/regions/{filled.region.id}/{what}?{query}"
        body = problem(_get(client, path), 422)
        assert field in body["errors"], (what, body)


def test_a_city_or_an_unknown_region_is_404(client, filled):
    for region_id in (filled.city.id, 999999):
        for what in ("figures", "hotspots", "rating", "daily"):
            problem(_get(client, f"/api/v1/open/statistics/regions/{region_id}/{what}"), 404)


def test_the_regions_with_statistics(client, filled):
    body = _get(client, "/api/v1/open/statistics/regions").get_json()
    names = [region["name"] for region in body["regions"]]
    assert "Республика Проба" in names and "Чужая область" in names
    table = csv_rows(_get(client, "/api/v1/open/statistics/regions?format=csv"))
    assert table[0] == ["Номер", "ОКТМО", "Регион"]


def test_statistics_reads_have_etags_that_follow_the_data(client, filled):
    base = f"/api/v1/open/statistics/regions/{filled.region.id}"
    paths = [
        "/api/v1/open/statistics/regions",
        f"{base}/figures?{MAY}",
        f"{base}/figures?{MAY}&format=csv",
        f"{base}/hotspots?{MAY}",
        f"{base}/rating?{MAY}&format=csv",
        f"{base}/daily?start=2026-05-01&end=2026-05-31",
        f"{base}/daily?start=2026-05-01&end=2026-05-31&format=csv",
    ]
    tags = {}
    for path in paths:
        tags[path] = _get(client, path).headers["ETag"]
        assert _get(client, path).headers["ETag"] == tags[path], path
        with time_machine.travel(NOW, tick=False):
            assert client.get(path, headers={"If-None-Match": tags[path]}).status_code == 304
    daily = f"{base}/daily?start=2026-05-01&end=2026-05-31"
    with time_machine.travel(NOW, tick=False):
        rollup(filled, filled.city_admin, filled.city, date(2026, 5, 20), received=9)
    assert _get(client, daily).headers["ETag"] != tags[daily]
    assert _get(client, f"{base}/figures?{MAY}").headers["ETag"] != tags[f"{base}/figures?{MAY}"]


def test_the_daily_tag_is_the_digest_of_the_rows_not_of_the_moment(client, filled):
    path = (
        f"/api/v1/open/statistics/regions/{filled.region.id}/daily?start=2026-05-01&end=2026-05-31"
    )
    first = _get(client, path)
    with time_machine.travel(datetime(2026, 6, 20, tzinfo=UTC), tick=False):
        later = client.get(path)
    assert first.headers["ETag"] == later.headers["ETag"]
    assert (
        hashlib.sha256(first.get_data()).hexdigest() == hashlib.sha256(later.get_data()).hexdigest()
    )


def test_nothing_personal_in_the_statistics(client, filled):
    base = f"/api/v1/open/statistics/regions/{filled.region.id}"
    bodies = [
        _get(client, path).get_data(as_text=True)
        for path in (
            f"{base}/figures?{MAY}",
            f"{base}/figures?{MAY}&format=csv",
            f"{base}/hotspots?{MAY}",
            f"{base}/rating?{MAY}",
            f"{base}/rating?{MAY}&format=csv",
            f"{base}/daily?start=2026-04-01&end=2026-05-31",
            f"{base}/daily?start=2026-04-01&end=2026-05-31&format=csv",
        )
    ]
    assert_no_personal_data(
        bodies,
        REMARK_TEXT,
        "Агриппина",
        "Жителькина",
        "agrippina.zhitelkina@example.org",
        "curator@proba.ru",
        "Кураторская",
        "Замечательная",
        "Когда починят дорогу?",
    )
