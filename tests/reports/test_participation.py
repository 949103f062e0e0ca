"""Participation indicators against hand-counted fixtures: what "held in the period" means for
votes (early close at its close time), surveys and hearings, the time zone's day boundaries,
moderation outcomes, per municipality and per organization subtree, and other regions kept out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from participation.directline.models import QuestionState
from participation.hearings.models import RemarkStatus
from participation.reports import participation
from participation.reports.definitions import BY_CODE
from participation.reports.services import Cut, Period
from tests.reports.conftest import (
    MAY,
    ballot,
    campaign,
    directline,
    hearing,
    local,
    question,
    remark,
    response,
    scope,
    site_day,
    survey,
    widget,
)

NOW = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def filled(w, now):
    d = date
    # --- votes: held = published, opened, and closed (early close at its moment) in the period
    c1 = campaign(w.city_admin, w.city, local(d(2026, 4, 20)), local(d(2026, 5, 10)))
    c2 = campaign(
        w.city_admin,
        w.city,
        local(d(2026, 5, 1)),
        local(d(2026, 6, 30)),
        closed_early_at=local(d(2026, 5, 31), time(23, 30)),  # 18:30 UTC: still May locally
        close_reason="Решение комиссии",
    )
    campaign(  # closed early in April: held in April, not in May
        w.city_admin,
        w.city,
        local(d(2026, 4, 1)),
        local(d(2026, 5, 20)),
        closed_early_at=local(d(2026, 4, 30)),
        close_reason="Отмена",
    )
    campaign(  # 31 May 20:00 UTC is 1 June 01:00 in the territory: June
        w.city_admin,
        w.city,
        local(d(2026, 5, 1)),
        datetime(2026, 5, 31, 20, 0, tzinfo=UTC),
    )
    campaign(  # never published
        w.city_admin, w.city, local(d(2026, 5, 1)), local(d(2026, 5, 15)), published_at=None
    )
    campaign(  # closed before it ever opened: not held
        w.city_admin,
        w.city,
        local(d(2026, 5, 10)),
        local(d(2026, 5, 25)),
        closed_early_at=local(d(2026, 5, 5)),
        close_reason="Ошибка",
    )
    c8 = campaign(w.district_admin, w.village, local(d(2026, 5, 1)), local(d(2026, 5, 12)))
    c_other = campaign(w.other_admin, w.other_city, local(d(2026, 5, 1)), local(d(2026, 5, 10)))

    for day in (d(2026, 5, 2), d(2026, 5, 3), d(2026, 5, 10)):
        ballot(c1, day)
    ballot(c1, d(2026, 4, 30))
    ballot(c2, d(2026, 6, 1))
    ballot(c8, d(2026, 5, 4), district=w.village)
    ballot(c8, d(2026, 5, 5))
    for _ in range(5):
        ballot(c_other, d(2026, 5, 5))

    # --- surveys
    s1 = survey(w.city_admin, local(d(2026, 4, 20)), local(d(2026, 5, 15)))
    survey(
        w.city_admin,
        local(d(2026, 5, 1)),
        local(d(2026, 6, 30)),
        closed_at=local(d(2026, 5, 3)),
    )
    survey(w.city_admin, local(d(2026, 5, 1)), local(d(2026, 6, 30)))  # still open
    survey(w.school, local(d(2026, 5, 1)), local(d(2026, 5, 20)))
    survey(w.district_admin, local(d(2026, 5, 1)), local(d(2026, 5, 25)))
    survey(w.other_admin, local(d(2026, 5, 1)), local(d(2026, 5, 25)))
    response(s1, local(d(2026, 5, 1), time(0, 30)))  # 30 April 19:30 UTC: May locally
    response(s1, local(d(2026, 4, 30), time(23, 30)))  # April
    response(s1, local(d(2026, 5, 7)))
    response(s1, local(d(2026, 5, 14)))

    # --- hearings: held on the last day of remarks
    h1 = hearing(w.city_admin, w.city, d(2026, 5, 1), d(2026, 5, 14))
    hearing(w.city_admin, w.city, d(2026, 5, 20), d(2026, 5, 31))  # closes 1 June 00:00
    hearing(w.city_admin, w.city, d(2026, 4, 20), d(2026, 4, 30))  # closes 1 May 00:00
    hearing(w.city_admin, w.city, d(2026, 5, 2), d(2026, 5, 12), published=False)
    hearing(w.city_admin, w.city, d(2026, 6, 1), d(2026, 6, 10))
    remark(h1, local(d(2026, 5, 2)))
    remark(h1, local(d(2026, 5, 3)))
    remark(h1, local(d(2026, 5, 4)), status=RemarkStatus.PENDING)
    remark(h1, local(d(2026, 5, 5)), status=RemarkStatus.REJECTED)

    # --- direct line of the regional government
    line = directline(w, w.government)
    first = question(w, line, w.city, local(d(2026, 5, 5)))
    question(
        w,
        line,
        w.village,
        local(d(2026, 5, 10)),
        QuestionState.ANSWERED,
        answered=local(d(2026, 5, 20)),
    )
    question(w, line, w.city, local(d(2026, 5, 6)), QuestionState.REJECTED)
    question(w, line, w.city, local(d(2026, 5, 7)), QuestionState.MERGED, into=first)
    question(
        w,
        line,
        w.city,
        local(d(2026, 4, 28)),
        QuestionState.ANSWERED,
        answered=local(d(2026, 5, 20)),
    )

    # --- widgets
    widget(w.city_admin)
    widget(w.school, site_url="")
    widget(w.district_admin, site_url=None)
    widget(w.other_admin)
    site_day(w.city_admin, d(2026, 5, 3), 10)
    site_day(w.city_admin, d(2026, 5, 31), 5)
    site_day(w.city_admin, d(2026, 6, 1), 100)
    site_day(w.other_admin, d(2026, 5, 3), 1000)
    return w


EXPECTED_MAY = {
    "votes_held": 3,
    "ballots_cast": 5,
    "surveys_held": 4,
    "survey_answers": 3,
    "hearings_held": 2,
    "hearing_remarks": 3,
    "directline_questions": 2,
    "directline_answered": 2,
    "widget_sites": 1,
    "widget_visits": 15,
}


def test_region_totals_of_may_equal_the_hand_count(filled):
    row = participation.figures(scope(filled), MAY)
    assert {code: row.values[code] for code in EXPECTED_MAY} == EXPECTED_MAY
    # Уфимск connected in April; Степной район only in June; the third has no administration.
    assert row.values["connected_municipalities_share"] == pytest.approx(1 / 3)
    assert row.counters == {"municipalities_connected": 1, "municipalities": 3}


def test_every_participation_indicator_is_computed(filled):
    row = participation.figures(scope(filled), MAY)
    assert set(participation.CODES) <= set(row.values)
    assert all(BY_CODE[code].rule for code in participation.CODES)


def test_breakdown_per_municipality(filled):
    rows = {r.key: r for r in participation.breakdown(scope(filled), MAY, Cut.MUNICIPALITY)}
    city, district = rows[filled.city.id], rows[filled.district.id]
    assert city.label == "город Уфимск"
    assert (city.values["votes_held"], district.values["votes_held"]) == (2, 1)
    assert (city.values["ballots_cast"], district.values["ballots_cast"]) == (3, 2)
    assert (city.values["surveys_held"], district.values["surveys_held"]) == (3, 1)
    assert (city.values["directline_questions"], district.values["directline_questions"]) == (1, 1)
    assert (city.values["directline_answered"], district.values["directline_answered"]) == (1, 1)
    assert city.values["connected_municipalities_share"] == 1.0
    assert district.values["connected_municipalities_share"] == 0.0
    assert rows[filled.bare.id].values["connected_municipalities_share"] == 0.0
    assert filled.other_city.id not in rows


def test_june_sees_the_late_confirmation_and_the_june_events(filled):
    june = Period(date(2026, 6, 1), date(2026, 6, 30))
    row = participation.figures(scope(filled), june)
    assert row.values["connected_municipalities_share"] == pytest.approx(2 / 3)
    # The campaign closing at 01:00 local on 1 June; the 1 June ballot; the hearing whose
    # last day of remarks was 31 May is May's, and the one running to 10 June is not held yet.
    assert row.values["votes_held"] == 1
    assert row.values["ballots_cast"] == 1
    assert row.values["hearings_held"] == 1  # 1…10 June closed by 15 June
    assert row.values["widget_visits"] == 100


def test_a_period_running_into_the_future_counts_only_what_has_closed(filled):
    with time_machine.travel(local(date(2026, 5, 11)), tick=False):
        row = participation.figures(scope(filled), MAY)
    # c1 closed on 10 May; c2 (early close on 31 May) and c8 (12 May) have not closed yet.
    assert row.values["votes_held"] == 1


def test_municipality_scope(filled):
    row = participation.figures(scope(filled, municipality_id=filled.district.id), MAY)
    assert row.values["votes_held"] == 1
    assert row.values["ballots_cast"] == 2
    assert row.values["connected_municipalities_share"] == 0.0


def test_organization_subtree_scope(filled):
    subtree = frozenset({filled.city_admin.id, filled.school.id})
    row = participation.figures(scope(filled, organization_ids=subtree), MAY)
    assert row.values["surveys_held"] == 3
    assert row.values["votes_held"] == 2
    assert row.values["directline_questions"] == 0  # the government hosts the line
    assert row.values["widget_sites"] == 1
    assert row.values["connected_municipalities_share"] == 1.0
    school = participation.figures(
        scope(filled, organization_ids=frozenset({filled.school.id})), MAY
    )
    assert school.values["surveys_held"] == 1


def test_breakdown_per_organization(filled):
    rows = {r.key: r for r in participation.breakdown(scope(filled), MAY, Cut.ORGANIZATION)}
    assert rows[filled.city_admin.id].values["surveys_held"] == 2
    assert rows[filled.school.id].values["surveys_held"] == 1
    assert rows[filled.government.id].values["directline_questions"] == 2
    assert rows[filled.city_admin.id].values["connected_municipalities_share"] is None


def test_another_region_sees_only_its_own(filled):
    row = participation.figures(scope(filled).narrowed(region_id=filled.other_region.id), MAY)
    assert row.values["votes_held"] == 1
    assert row.values["ballots_cast"] == 5
    assert row.values["widget_visits"] == 1000
    assert row.values["hearings_held"] == 0


def test_a_region_without_events_has_zeros(w, now):
    row = participation.figures(scope(w).narrowed(region_id=w.other_region.id), MAY)
    assert row.values["votes_held"] == 0
    assert row.values["widget_sites"] == 0
    assert row.values["connected_municipalities_share"] == 1.0  # its one city is ready
