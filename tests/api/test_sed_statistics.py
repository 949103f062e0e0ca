"""The statistics CSV for a СЭД: the analytics' own file, for the key's organization and those
below it only, with counts and codes but no person and no message text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from participation.appeals import services as s
from participation.core.db import utcnow
from participation.extensions import db
from participation.reports.rollup import rebuild
from participation.reports.summary import local_today
from tests import factories as f
from tests.api.openapi_check import check_problem
from tests.api.sed_fixtures import headers, sed_world, to_assignment, world  # noqa: F401

URL = "/api/v1/org/statistics.csv"


def _get(client, url, **kw):
    """The CSV is streamed: read it whole inside the request, as a client would."""
    return client.get(url, buffered=True, **kw)


SECRETS = ("Ксенофонтова", "Евлампия", "evlampia.k7391@example.org", "калитка 7391", "Садовая 7391")


def _today():
    return local_today("Asia/Yekaterinburg", utcnow())


def _rows(response) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, as the analytics' file"
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    return [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


def _data(w):
    author = f.user(
        registration_territory=w.city,
        last_name="Ксенофонтова",
        first_name="Евлампия",
        email="evlampia.k7391@example.org",
    )
    text = "Во дворе скрипит калитка 7391, а рядом яма на дороге глубиной в колено."
    ours = [
        to_assignment(w, author=author, text=text, address="ул. Садовая 7391") for _ in range(3)
    ]
    s.assign_executor(ours[0], w.coordinator, w.executor.id)
    s.submit_draft(ours[0], w.executor, "Яму заделали, калитку 7391 смазали.")
    s.approve_answer(ours[0], w.head)
    s.rate_appeal(ours[0], author, 5, "Спасибо, Евлампия")
    # The neighbouring town's message: not the city's to count.
    to_assignment(w, author=author, text=text, subcategory_id=w.benches.id, territory_id=w.town.id)
    db.session.flush()
    rebuild()
    db.session.commit()


def test_the_csv_counts_the_organization_and_nothing_personal(client, sed):
    w = sed
    _data(w)
    today = _today()
    response = _get(
        client,
        URL,
        query_string={"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()},
        headers=headers(w.stat_token),
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = _rows(response)
    assert {r["Муниципальное образование"] for r in rows} == {"город Тестовск"}
    [city] = rows
    assert city["ОКТМО муниципального образования"] == w.city.oktmo
    assert city["Код источника"] == "portal" and city["Дата"] == today.isoformat()
    assert (city["Поступило сообщений"], city["Дан ответ"], city["Оценки 4–5"]) == ("3", "1", "1")
    text = response.get_data().decode("utf-8")
    for secret in SECRETS:
        assert secret not in text, secret


def test_a_regional_key_counts_its_whole_tree(client, sed):
    from tests.api.conftest import Org, issue

    w = sed
    _data(w)
    _key, token = issue(Org(w.government, w.gov_head), name="Статистика региона")
    rows = _rows(_get(client, URL, headers=headers(token)))
    assert {r["Муниципальное образование"] for r in rows} == {"город Тестовск", "город Соседний"}


def test_statistics_need_their_scope_and_good_dates(client, sed):
    w = sed
    refused = _get(client, URL, headers=headers(w.read_token))
    assert refused.status_code == 403
    assert "statistics:read" in check_problem(refused)["detail"]
    bad = _get(
        client,
        URL,
        query_string={"start": "2026-05-10", "end": "2026-05-01"},
        headers=headers(w.token),
    )
    assert bad.status_code == 422
    assert check_problem(bad)["errors"] == {"query.end": ["Дата окончания раньше даты начала."]}
    garbled = _get(client, URL, query_string={"start": "вчера"}, headers=headers(w.token))
    assert garbled.status_code == 422 and "query.start" in check_problem(garbled)["errors"]
    foreign = _get(client, URL, query_string={"region": w.city.id}, headers=headers(w.token))
    assert foreign.status_code == 422 and "query.region" in check_problem(foreign)["errors"]
