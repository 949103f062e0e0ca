"""The rating: hand-computed scores, ties sharing a place, missing data redistributed and said,
the weights form (bad input refused with nothing saved, good input saved with audit), and who
may see the rating and edit its weights."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from participation.core.audit import AuditEntry
from participation.extensions import db
from participation.reports import rating as r
from participation.reports.models import RatingWeight
from tests.helpers import csrf_token, login_as
from tests.reports.conftest import MAY, ballot, campaign, local, rollup

NOW = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def filled(w, now):
    # Уфимск: 10 answers, 8 on time; 4 ratings summing 18, three of them 4–5.
    rollup(w, w.city_admin, w.city, date(2026, 5, 5), answered=6, answered_on_time=5)
    rollup(
        w,
        w.school,
        w.city,
        date(2026, 5, 6),
        answered=4,
        answered_on_time=3,
        ratings=4,
        rating_sum=18,
        rated_high=3,
    )
    # Степной район: 5 answers, all on time, nobody rated them.
    rollup(w, w.district_admin, w.village, date(2026, 5, 7), answered=5, answered_on_time=5)
    rollup(w, w.district_admin, w.village, date(2026, 4, 7), ratings=1, rating_sum=1)  # April
    # Уфимск held a vote with 3 ballots.
    c = campaign(w.city_admin, w.city, local(date(2026, 5, 1)), local(date(2026, 5, 10)))
    for day in (1, 2, 3):
        ballot(c, date(2026, 5, day))
    return w


def _rows(rating):
    return {row.label: row for row in rating.rows}


def test_default_weights_hand_computed(filled):
    rating = r.compute_rating(filled.region.id, MAY)
    assert rating.default_weights
    rows = _rows(rating)
    city, district, bare = (
        rows["город Уфимск"],
        rows["Степной район"],
        rows["Безадминистративный район"],
    )
    # Уфимск: on time 0.8 is the worst (0); every other known indicator at its best but
    # «подключено» … all present: 15 + 10 + 10 + 5 + 8 + 7 + 8 + 7 = 70 of 100.
    assert city.score == pytest.approx(70.0)
    # Степной: ratings missing (25 of the weight spread): (30 + 10 + 8 + 7) / 75.
    assert district.score == pytest.approx(55 / 75 * 100)
    # Безадминистративный: only overdue, connected, votes, ballots, hearings, remarks known.
    assert bare.score == pytest.approx(25 / 45 * 100)
    assert [row.label for row in rating.rows] == [
        "Степной район",
        "город Уфимск",
        "Безадминистративный район",
    ]
    assert [row.place for row in rating.rows] == ["1", "2", "3"]
    assert city.cells["answered_on_time_share"].value == pytest.approx(0.8)
    assert city.cells["rating_avg"].value == pytest.approx(4.5)
    assert city.cells["ballots_cast"].value == 3
    assert city.notes == []


def test_missing_data_is_explained_per_cell_and_row(filled):
    rows = _rows(r.compute_rating(filled.region.id, MAY))
    district = rows["Степной район"]
    assert district.cells["rated_high_share"].missing == "нет оценок за период"
    assert district.cells["rating_avg"].missing == "нет оценок за период"
    assert district.cells["rated_high_share"].scaled is None
    assert "«Оценки 4–5», «Средняя оценка»" in district.notes[0]
    assert "распределён" in district.notes[0]
    bare = rows["Безадминистративный район"]
    assert bare.cells["answered_on_time_share"].missing == "нет ответов за период"
    assert bare.cells["votes_held"].value == 0  # a count: zero, not missing


def _weights(**given):
    return {code: given.get(code, 0) for code in r.CODES}


def test_ties_share_a_place(filled):
    r.save_weights(filled.region.id, _weights(votes_held=100), filled.cur_curator)
    rows = _rows(r.compute_rating(filled.region.id, MAY))
    assert rows["город Уфимск"].place == "1"
    assert rows["Степной район"].place == "2–3"
    assert rows["Безадминистративный район"].place == "2–3"
    assert "место делят 2" in rows["Степной район"].notes[-1]

    r.save_weights(filled.region.id, _weights(overdue_now=100), filled.cur_curator)
    rating = r.compute_rating(filled.region.id, MAY)
    assert {row.place for row in rating.rows} == {"1–3"}
    assert all(row.score == 100 for row in rating.rows)


def test_a_unit_without_any_weighted_data_gets_no_place(filled):
    r.save_weights(filled.region.id, _weights(rated_high_share=100), filled.cur_curator)
    rows = _rows(r.compute_rating(filled.region.id, MAY))
    assert rows["город Уфимск"].place == "1"
    assert rows["Степной район"].place == "—"
    assert rows["Степной район"].score is None
    assert "место не присвоено" in rows["Степной район"].notes[0]


def test_lower_is_better_for_overdue(filled):
    from participation.reports import rating

    row_values = {"город Уфимск": 4, "Степной район": 0, "Безадминистративный район": 2}
    rows = [
        r.RatingRow(key=i, label=name, cells={c: r.Cell(c, None) for c in r.CODES})
        for i, name in enumerate(row_values)
    ]
    for row in rows:
        row.cells["overdue_now"].value = row_values[row.label]
    rating._scale(rows)
    scaled = {row.label: row.cells["overdue_now"].scaled for row in rows}
    assert scaled == {"город Уфимск": 0.0, "Степной район": 1.0, "Безадминистративный район": 0.5}


def test_organizations_rating(filled):
    rating = r.compute_rating(filled.region.id, MAY, r.RatingOf.ORGANIZATIONS)
    rows = _rows(rating)
    assert set(rows) == {
        "Правительство Республики Проба",
        "Администрация г. Уфимска",
        "Школа № 7",
        "Администрация Степного района",
    }
    school = rows["Школа № 7"]
    assert school.cells["answered_on_time_share"].value == pytest.approx(0.75)
    assert school.cells["connected_municipalities_share"].missing == "к организациям не относится"


def test_weights_fall_back_to_the_defaults_and_sum_is_free(filled):
    assert r.region_weights(filled.region.id) == (r.DEFAULT_WEIGHTS, True)
    assert sum(r.DEFAULT_WEIGHTS.values()) == 100


# --- pages --------------------------------------------------------------------------------------


def _url(w, path=""):
    return f"/reports/rating/{path}?region={w.region.id}"


@pytest.mark.parametrize(
    ("who", "rating_status", "weights_status"),
    [
        ("cur_curator", 200, 200),
        ("cur_coordinator", 200, 200),
        ("gov_curator", 200, 200),
        ("city_head", 200, 404),
        ("city_curator", 200, 404),
        ("other_curator", 404, 404),
        ("resident", 404, 404),
    ],
)
def test_who_sees_the_rating_and_edits_the_weights(
    client, filled, who, rating_status, weights_status
):
    login_as(client, getattr(filled, who))
    assert client.get(_url(filled)).status_code == rating_status
    assert client.get(_url(filled, "weights")).status_code == weights_status


def test_anonymous_is_sent_to_log_in(client, filled):
    response = client.get(_url(filled))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_other_regions_curator_sees_their_own_region(client, filled):
    login_as(client, filled.other_curator)
    response = client.get("/reports/rating/")
    assert response.status_code == 200
    assert "Чужая область" in response.get_data(as_text=True)


def test_the_rating_page_shows_the_table_method_and_weights_link(client, filled):
    login_as(client, filled.cur_curator)
    html = client.get(_url(filled) + "&grain=month&day=2026-05-10").get_data(as_text=True)
    assert "Степной район" in html
    assert "нет оценок за период" in html
    assert "Как считается рейтинг" in html
    assert "3–4" in html  # the method's example of a shared place
    assert "Изменить веса" in html
    assert "с 01.05.2026 по 31.05.2026" in html

    login_as(client, filled.city_head)
    assert "Изменить веса" not in client.get(_url(filled)).get_data(as_text=True)


def _post(client, w, **overrides):
    data = {f"w_{code}": "10" for code in r.CODES}
    data.update({f"w_{k}": v for k, v in overrides.items()})
    data["csrf_token"] = csrf_token(client, _url(w, "weights"))
    return client.post(_url(w, "weights"), data=data)


def _saved():
    return db.session.scalar(sa.select(sa.func.count()).select_from(RatingWeight))


def _audited():
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "reports.rating_weights_changed")
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"votes_held": "много"}, "Вес должен быть числом, например 15 или 12,5."),
        ({"votes_held": "-1"}, "Вес не может быть отрицательным."),
        ({"votes_held": "100,5"}, "Вес не может быть больше 100."),
        ({"votes_held": ""}, "Укажите вес — число от 0 до 100"),
        ({"votes_held": "nan"}, "Вес должен быть числом"),
        (
            dict.fromkeys(r.CODES, "0"),
            "Хотя бы один вес должен быть больше нуля",
        ),
    ],
)
def test_bad_weights_are_refused_next_to_the_field_and_nothing_is_saved(
    client, filled, overrides, message
):
    login_as(client, filled.cur_curator)
    response = _post(client, filled, **overrides)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="error-text"' in html
    assert _saved() == 0
    assert _audited() == 0


def test_good_weights_are_saved_with_audit_and_used(client, filled):
    login_as(client, filled.cur_curator)
    response = _post(client, filled, votes_held="12,5", answered_on_time_share="0")
    assert response.status_code == 302
    weights, default = r.region_weights(filled.region.id)
    assert not default
    assert weights["votes_held"] == 12.5
    assert weights["answered_on_time_share"] == 0
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "reports.rating_weights_changed")
    )
    assert entry.actor_id == filled.cur_curator.id
    assert entry.object_id == str(filled.region.id)
    assert entry.details["after"]["votes_held"] == 12.5
    assert entry.details["before"]["votes_held"] == r.DEFAULT_WEIGHTS["votes_held"]
    page = client.get(_url(filled)).get_data(as_text=True)
    assert "Действуют веса, заданные куратором региона." in page


def test_the_weights_form_needs_its_csrf_token(client, filled):
    login_as(client, filled.cur_curator)
    data = {f"w_{code}": "10" for code in r.CODES}
    response = client.post(_url(filled, "weights"), data=data)
    assert response.status_code in (200, 400)
    assert _saved() == 0


def test_another_regions_weights_cannot_be_posted(client, filled):
    login_as(client, filled.other_curator)
    token = csrf_token(client, "/reports/rating/")
    data = {f"w_{code}": "10" for code in r.CODES} | {"csrf_token": token}
    assert client.post(_url(filled, "weights"), data=data).status_code == 404
    assert _saved() == 0


def test_local_period_choice():
    today = date(2026, 6, 15)
    assert r.chosen_period("quarter", "2026-05-10", today).start == date(2026, 4, 1)
    assert r.chosen_period("year", None, today).end == date(2026, 12, 31)
    assert r.chosen_period("day", "garbage", today).start == date(2026, 6, 1)  # month, today
    assert r.chosen_period("month", "1812-09-07", today).start == date(2026, 6, 1)
    assert local(date(2026, 5, 1)).tzinfo is not None
